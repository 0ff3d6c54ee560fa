/**
 * HTTP headers as call metadata (`../metadata.ts`): what a handler reads from `ctx.metadata` and
 * writes to `ctx.responseMetadata` when its call came in over HTTP. Header names are lower case
 * (Node's `IncomingMessage.headers`); values are strings. Flower's binary values travel base64
 * under names without gRPC's `-bin` suffix (`flwr-public-key`, `flwr-signature`): reading them
 * is the auth codec's job (`superlink/auth/node-auth-headers.ts`), not this class's.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { MetadataValue, MutableMetadata } from "../metadata.js";

/** Request or response headers behind the metadata interfaces. */
export class HeaderMetadata implements MutableMetadata {
  private readonly values = new Map<string, string[]>();

  /** @param headers - request headers as Node parsed them (omit for an empty set). */
  constructor(headers?: IncomingHttpHeaders) {
    if (!headers) return;
    for (const [key, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      // Node joins repeated headers with ", " except set-cookie; Flower's headers are single.
      this.values.set(key, Array.isArray(value) ? value : [value]);
    }
  }

  get(key: string): MetadataValue[] {
    return [...(this.values.get(key.toLowerCase()) ?? [])];
  }

  set(key: string, value: MetadataValue): void {
    this.values.set(key.toLowerCase(), [
      typeof value === "string" ? value : value.toString("base64"),
    ]);
  }

  getMap(): { [key: string]: MetadataValue } {
    const map: { [key: string]: MetadataValue } = {};
    for (const [key, values] of this.values) if (values[0] !== undefined) map[key] = values[0];
    return map;
  }

  /** Every header, for `ServerResponse.setHeader`. */
  entries(): [string, string[]][] {
    return [...this.values];
  }
}
