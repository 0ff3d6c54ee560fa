/**
 * Flower's protobuf-over-HTTP media types and stream framing (`flwr/supercore/protobuf/`):
 * unary bodies are one serialized message; a server stream is a sequence of frames, each a
 * 4-byte big-endian length and that many bytes of one serialized message.
 */

/** Content type of a unary request or response body. */
export const PROTOBUF_MEDIA_TYPE = "application/protobuf";
/** Content type of a streamed response. */
export const PROTOBUF_STREAM_MEDIA_TYPE = "application/flower-protobuf-stream";
/** Length prefix of one stream frame, bytes. */
export const FRAME_HEADER_SIZE = 4;
/** Flower's largest stream frame (2 GiB − 1). */
export const MAX_STREAM_FRAME_BYTES = 2_147_483_647;

/** One frame: length prefix and payload. */
export function frameMessage(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_SIZE + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.set(payload, FRAME_HEADER_SIZE);
  return frame;
}

/**
 * Splits a byte stream into frame payloads, whatever its chunking.
 * @throws Error on a frame larger than `maxFrameBytes`, or when the stream ends inside a frame.
 */
export async function* readFrames(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  maxFrameBytes = MAX_STREAM_FRAME_BYTES,
): AsyncIterable<Uint8Array> {
  let buffer: Buffer = Buffer.alloc(0);
  let size: number | undefined;
  for await (const chunk of chunks) {
    buffer = buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([buffer, chunk]);
    for (;;) {
      if (size === undefined) {
        if (buffer.length < FRAME_HEADER_SIZE) break;
        size = buffer.readUInt32BE(0);
        if (size > maxFrameBytes)
          throw new Error(`Protobuf stream frame size ${size} exceeds maximum ${maxFrameBytes}`);
        buffer = buffer.subarray(FRAME_HEADER_SIZE);
      }
      if (buffer.length < size) break;
      yield buffer.subarray(0, size);
      buffer = buffer.subarray(size);
      size = undefined;
    }
  }
  if (size !== undefined || buffer.length > 0) throw new Error("Truncated protobuf stream frame");
}
