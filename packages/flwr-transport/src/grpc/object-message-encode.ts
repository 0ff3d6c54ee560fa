/**
 * Single-copy gRPC serializers. ts-proto's `encode(m).finish()` copies a message's bytes twice
 * (into BinaryWriter's doubling buffer, then `finish()`'s exact-size slice) and
 * `Buffer.from(Uint8Array)` a third time; for PushObjectRequest and PullObjectResponse, whose
 * `object_content` is an ArrayChunk of up to 5 MiB, those copies were a measured share of the
 * SuperLink's CPU and peak RSS (bench/model-transfer.ts). Hand-written rather than a library
 * because the output must stay byte-identical to ts-proto's (the same fields in the same order):
 * the small fields are still encoded by ts-proto, only the big `bytes` field is written by hand,
 * straight into one exact-size buffer.
 */
import {
  type PullObjectResponse,
  PullObjectResponse as PullObjectResponseCodec,
  type PushObjectRequest,
  PushObjectRequest as PushObjectRequestCodec,
} from "@flwr-ts/core/proto";

const EMPTY = Buffer.alloc(0);

/** Wraps a Uint8Array as a Buffer over the same memory (no copy). */
export function asBufferView(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** Size of `n` as a protobuf varint. */
function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Writes `n` as a varint at `offset`; returns the offset after it. */
function writeVarint(out: Buffer, offset: number, n: number): number {
  while (n >= 0x80) {
    out[offset++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  out[offset++] = n;
  return offset;
}

/**
 * `before` + field `tag` (wire type 2) holding `content` + `after`, in one exact-size buffer:
 * what a protobuf encoder writes for fields before, the bytes field, and fields after it.
 */
function spliceBytesField(
  before: Uint8Array,
  tag: number,
  content: Uint8Array,
  after: Uint8Array,
): Buffer {
  if (content.length === 0) return Buffer.concat([before, after]);
  const out = Buffer.allocUnsafe(
    before.length + 1 + varintSize(content.length) + content.length + after.length,
  );
  out.set(before, 0);
  let offset = before.length;
  out[offset++] = tag;
  offset = writeVarint(out, offset, content.length);
  out.set(content, offset);
  out.set(after, offset + content.length);
  return out;
}

/** PushObjectRequest's bytes, equal to `PushObjectRequest.encode(m).finish()`, with one copy. */
export function encodePushObjectRequest(m: PushObjectRequest): Buffer {
  // Fields 1-3, then object_content (4, tag 34), then session_id (5).
  const before = PushObjectRequestCodec.encode({
    ...m,
    objectContent: EMPTY,
    sessionId: "",
  }).finish();
  const after = !m.sessionId
    ? EMPTY
    : PushObjectRequestCodec.encode({
        node: undefined,
        runId: 0n,
        objectId: "",
        objectContent: EMPTY,
        sessionId: m.sessionId,
      }).finish();
  return spliceBytesField(before, 34, m.objectContent, after);
}

/** PullObjectResponse's bytes, equal to `PullObjectResponse.encode(m).finish()`, with one copy. */
export function encodePullObjectResponse(m: PullObjectResponse): Buffer {
  // Fields 1-2, then object_content (3, tag 26), the last field.
  const before = PullObjectResponseCodec.encode({ ...m, objectContent: EMPTY }).finish();
  return spliceBytesField(before, 26, m.objectContent, EMPTY);
}
