/**
 * A client of a Flower 1.42 Runtime API (a SuperNode's or SuperLink's `/v1/runtime/*`), on the
 * shared HTTP wire client (`wire/http/http-client.ts`): `host:port` becomes `http://host:port`
 * with `insecure`, else `https://host:port` verified with `rootCertificates` (1.42's
 * `--root-certificates`; without it, Node's trust store as Python's uses the system's).
 *
 * No runtime-version headers are sent: flwr-ts is not a `flwr` package, and 1.42 accepts a
 * caller that sends none of `flwr-package-name`/`-version`/`flwr-component-name`
 * (`flwr/supercore/runtime_version_compatibility.py`, `_metadata_is_missing`: "TEMPORARY: allow
 * continuation when all runtime metadata keys are missing").
 */

import { RuntimeDefinition, TASK_TOKEN_HEADER } from "../../protocol/runtime/runtime-definition.js";
import { createHttpClient } from "../../wire/http/http-client.js";
import type { ServiceClient } from "../../wire/service-client.js";

/** How to reach a Runtime API. */
export interface RuntimeConnection {
  /** `host:port`. */
  readonly address: string;
  /** Plain HTTP (1.42's `--insecure`). */
  readonly insecure: boolean;
  /** PEM file (or bytes) of the CA that signed the Runtime API's certificate. */
  readonly rootCertificates?: string | Buffer | undefined;
}

/** A typed Runtime API client. */
export type RuntimeClient = ServiceClient<RuntimeDefinition>;

/** The base URL of a Runtime API address. */
export function runtimeBaseUrl(connection: RuntimeConnection): string {
  return `${connection.insecure ? "http" : "https"}://${connection.address}`;
}

/**
 * Creates a Runtime API client; with `token`, every call carries it (`flwr-task-token`), as
 * 1.42's `RuntimeTokenHttpInterceptor` does for app processes.
 */
export function createRuntimeClient(connection: RuntimeConnection, token?: string): RuntimeClient {
  return createHttpClient(RuntimeDefinition, runtimeBaseUrl(connection), {
    ...(connection.rootCertificates === undefined
      ? {}
      : { rootCertificates: connection.rootCertificates }),
    ...(token === undefined ? {} : { headers: { [TASK_TOKEN_HEADER]: token } }),
  });
}
