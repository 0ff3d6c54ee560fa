/**
 * Where an rpc lives on Flower's protobuf-over-HTTP wire (1.37+): `POST /v1/<api>/<method>`, the
 * method's name in kebab case (`flwr/supercore/protobuf/translation.py`), e.g.
 * `Fleet.SendNodeHeartbeat` → `/v1/fleet/send-node-heartbeat`.
 */
import type { GenericMethod, GenericService } from "../service-definition.js";

/** The `/v1/<api>` prefix of a service: `/v1/fleet` for `flwr.proto.Fleet`. */
export function httpPrefixOf(service: GenericService): string {
  return `/v1/${service.name.toLowerCase()}`;
}

/** `SendNodeHeartbeat` → `send-node-heartbeat`. */
export function kebabCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1-$2")
    .toLowerCase();
}

/** The HTTP path of one rpc. */
export function httpPathOf(
  service: GenericService,
  method: GenericMethod<never, never> | GenericMethod,
): string {
  return `${httpPrefixOf(service)}/${kebabCase(method.name)}`;
}
