/**
 * The one decoder of request bodies on every server wire (gRPC's `requestDeserialize`, the HTTP
 * router): `@flwr-ts/core`'s {@link decodeStrict}, so a string field that is not valid UTF-8 is
 * refused at decode (INVALID_ARGUMENT / HTTP 400) instead of reaching a handler, and its error
 * messages, with U+FFFD in place of the bytes.
 */
import { decodeStrict, InvalidUtf8Error } from "@flwr-ts/core/proto";
import type { ProtoCodec } from "./service-definition.js";

export { InvalidUtf8Error };

/**
 * Decodes a request body with `codec`, refusing invalid UTF-8 in string fields.
 * @throws InvalidUtf8Error for invalid UTF-8; the codec's own errors for other malformed bodies.
 */
export function decodeRequest<T>(codec: ProtoCodec<T>, bytes: Uint8Array): T {
  // Generated codecs take a reader as well as bytes (`decode(input: BinaryReader | Uint8Array)`).
  return decodeStrict(codec as Parameters<typeof decodeStrict<T>>[0], bytes);
}

/**
 * What gRPC's `requestDeserialize` hands the handler layer for a body refused by
 * {@link decodeRequest} with {@link InvalidUtf8Error}: grpc-js answers every exception thrown
 * while deserializing as INTERNAL, so the refusal travels as this value and the handler layer
 * answers INVALID_ARGUMENT.
 */
export class UndecodableRequest {
  /** @param reason - what is wrong, for the status details. */
  constructor(readonly reason: string) {}
}
