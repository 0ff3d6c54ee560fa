/**
 * The two header codecs of Flower's SuperNode authentication, feeding one verifier:
 * - gRPC (1.29, and 1.30–1.39's Fleet): metadata `flwr-public-key-bin` (the SPKI PEM bytes),
 *   `flwr-timestamp` (ISO 8601), `flwr-signature-bin` (DER ECDSA-SHA256 over the timestamp);
 * - HTTP (1.40+, `flwr/superlink/routers/fleet/node_auth.py`): headers `flwr-public-key` and
 *   `flwr-signature` carrying the same bytes base64-encoded (strictly: Python decodes with
 *   `validate=True`), and the same `flwr-timestamp`.
 */
import {
  PUBLIC_KEY_HEADER,
  type ReceivedAuthMetadata,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
} from "@flwr-ts/crypto";
import type { CallContext } from "../../wire/call-context.js";
import type { MetadataValue } from "../../wire/metadata.js";

/** Flower 1.40+'s HTTP header of the base64 public key PEM. */
export const HTTP_PUBLIC_KEY_HEADER = "flwr-public-key";
/** Flower 1.40+'s HTTP header of the base64 signature. */
export const HTTP_SIGNATURE_HEADER = "flwr-signature";

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes strict base64; a value that is not base64 becomes an empty buffer (a failed check). */
function base64Values(values: MetadataValue[]): Buffer[] {
  return values.map((v) => {
    const text = typeof v === "string" ? v.trim() : v.toString("latin1");
    return BASE64.test(text) ? Buffer.from(text, "base64") : Buffer.alloc(0);
  });
}

/** The three authentication entries of a call, from whichever wire it came in on. */
export function readNodeAuthHeaders(ctx: CallContext): ReceivedAuthMetadata {
  const md = ctx.metadata;
  if (ctx.protocol === "http") {
    return {
      [PUBLIC_KEY_HEADER]: base64Values(md.get(HTTP_PUBLIC_KEY_HEADER)),
      [TIMESTAMP_HEADER]: md.get(TIMESTAMP_HEADER),
      [SIGNATURE_HEADER]: base64Values(md.get(HTTP_SIGNATURE_HEADER)),
    };
  }
  return {
    [PUBLIC_KEY_HEADER]: md.get(PUBLIC_KEY_HEADER),
    [TIMESTAMP_HEADER]: md.get(TIMESTAMP_HEADER),
    [SIGNATURE_HEADER]: md.get(SIGNATURE_HEADER),
  };
}
