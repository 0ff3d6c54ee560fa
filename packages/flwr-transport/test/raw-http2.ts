/**
 * A minimal HTTP/2 client written frame by frame over TLS, for tests that need a peer which
 * behaves as grpcio's C core does after a server's GOAWAY: it keeps the connection open and
 * waits. node:http2's client closes its socket on GOAWAY and grpc-js cancels the call, so neither
 * shows whether the server itself releases the connection. Hand-written (a few frames, one HPACK
 * literal form) because no library sends header blocks larger than the decoder accepts.
 */
import { connect, type TLSSocket } from "node:tls";

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
const FRAME_HEADERS = 0x1;
const FRAME_SETTINGS = 0x4;
const FRAME_CONTINUATION = 0x9;
const FLAG_END_HEADERS = 0x4;
const MAX_FRAME = 16_384;

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** HPACK integer with a 7-bit prefix (RFC 7541 §5.1), Huffman flag off. */
function hpackLength(n: number): Buffer {
  if (n < 127) return Buffer.from([n]);
  const bytes = [127];
  let rest = n - 127;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** "Literal header field without indexing, new name" (RFC 7541 §6.2.2). */
function literal(name: string, value: string): Buffer {
  const n = Buffer.from(name, "latin1");
  const v = Buffer.from(value, "latin1");
  return Buffer.concat([Buffer.from([0x00]), hpackLength(n.length), n, hpackLength(v.length), v]);
}

/** An open TLS connection that has sent one gRPC request's header block. */
export interface RawHttp2Connection {
  /** The socket; its "close" event tells when the server released the connection. */
  socket: TLSSocket;
}

/**
 * Connects with ALPN h2, sends the preface, empty SETTINGS and the header block of a POST to
 * `path` with `headers` (HEADERS + CONTINUATION frames), then only reads.
 */
export async function sendRawHeaders(options: {
  port: number;
  ca: Buffer;
  path: string;
  headers: Record<string, string>;
}): Promise<RawHttp2Connection> {
  const socket = connect({
    host: "127.0.0.1",
    port: options.port,
    ca: options.ca,
    servername: "localhost",
    ALPNProtocols: ["h2"],
  });
  socket.on("error", () => {});
  socket.on("data", () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", () => resolve());
    socket.once("error", reject);
  });
  const block = Buffer.concat([
    literal(":method", "POST"),
    literal(":scheme", "https"),
    literal(":path", options.path),
    literal(":authority", "localhost"),
    literal("content-type", "application/grpc"),
    literal("te", "trailers"),
    ...Object.entries(options.headers).map(([k, v]) => literal(k, v)),
  ]);
  const frames = [PREFACE, frame(FRAME_SETTINGS, 0, 0, Buffer.alloc(0))];
  for (let offset = 0; offset < block.length; offset += MAX_FRAME) {
    const chunk = block.subarray(offset, offset + MAX_FRAME);
    const last = offset + MAX_FRAME >= block.length;
    frames.push(
      frame(
        offset === 0 ? FRAME_HEADERS : FRAME_CONTINUATION,
        last ? FLAG_END_HEADERS : 0,
        1,
        chunk,
      ),
    );
  }
  socket.write(Buffer.concat(frames));
  return { socket };
}
