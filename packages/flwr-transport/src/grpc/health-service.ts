/**
 * The standard gRPC health service, `grpc.health.v1.Health` (Check and Watch), added to every
 * gRPC server flwr-ts runs (Fleet, Control, ServerAppIo, ClientAppIo) so that load balancers,
 * Kubernetes probes and `grpc_health_probe` can ask any port whether it serves. Python Flower
 * registers the same service, on a separate plaintext server (`--health-server-address`,
 * `flwr/supercore/grpc_health/`), always SERVING and with Watch unimplemented; here Watch sends the
 * status and keeps the stream open until the client cancels or the server stops.
 *
 * The service is added next to the Flower services, outside their middleware (a health probe
 * carries no SuperNode signature or operator credential), and answers:
 * - `service` empty or the full name of a service on that server: SERVING;
 * - any other name: Check NOT_FOUND (as the health protocol specifies), Watch SERVICE_UNKNOWN.
 * The two messages have one field each; they are encoded here rather than through a generated
 * module (`grpc/health/v1/health.proto`: `string service = 1`, `ServingStatus status = 1`).
 */
import {
  type Server,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type sendUnaryData,
  status,
} from "@grpc/grpc-js";

/** `grpc.health.v1.HealthCheckResponse.ServingStatus`. */
export const ServingStatus = {
  UNKNOWN: 0,
  SERVING: 1,
  NOT_SERVING: 2,
  SERVICE_UNKNOWN: 3,
} as const;

/** A decoded `HealthCheckRequest`. */
export interface HealthCheckRequest {
  service: string;
}

/** A decoded `HealthCheckResponse`. */
export interface HealthCheckResponse {
  status: number;
}

function readVarint(bytes: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  let i = at;
  for (;;) {
    if (i >= bytes.length) throw new Error("truncated varint");
    const b = bytes[i++]!;
    if (shift < 35) value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [value, i];
    shift += 7;
    if (shift > 63) throw new Error("varint too long");
  }
}

function writeVarint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** Decodes a `HealthCheckRequest` (unknown fields skipped). @throws on malformed bytes. */
export function decodeHealthCheckRequest(bytes: Uint8Array): HealthCheckRequest {
  let service = "";
  let i = 0;
  while (i < bytes.length) {
    const [key, afterKey] = readVarint(bytes, i);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    i = afterKey;
    if (wire === 0) [, i] = readVarint(bytes, i);
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else if (wire === 2) {
      const [length, start] = readVarint(bytes, i);
      if (start + length > bytes.length) throw new Error("truncated field");
      if (field === 1)
        service = new TextDecoder("utf-8", { fatal: true }).decode(
          bytes.subarray(start, start + length),
        );
      i = start + length;
    } else throw new Error(`unsupported wire type ${wire}`);
    if (i > bytes.length) throw new Error("truncated field");
  }
  return { service };
}

/** Encodes a `HealthCheckRequest`. */
export function encodeHealthCheckRequest(request: HealthCheckRequest): Buffer {
  const text = Buffer.from(request.service, "utf8");
  return text.length === 0
    ? Buffer.alloc(0)
    : Buffer.from([0x0a, ...writeVarint(text.length), ...text]);
}

/** Encodes a `HealthCheckResponse`. */
export function encodeHealthCheckResponse(response: HealthCheckResponse): Buffer {
  return response.status === 0
    ? Buffer.alloc(0)
    : Buffer.from([0x08, ...writeVarint(response.status)]);
}

/** Decodes a `HealthCheckResponse`. @throws on malformed bytes. */
export function decodeHealthCheckResponse(bytes: Uint8Array): HealthCheckResponse {
  let result = 0;
  let i = 0;
  while (i < bytes.length) {
    const [key, afterKey] = readVarint(bytes, i);
    if (key !== 0x08) throw new Error(`unexpected field key ${key}`);
    [result, i] = readVarint(bytes, afterKey);
  }
  return { status: result };
}

/** The grpc-js definition of `grpc.health.v1.Health` (for servers and clients). */
export const HealthServiceDefinition: ServiceDefinition = {
  check: {
    path: "/grpc.health.v1.Health/Check",
    requestStream: false,
    responseStream: false,
    requestSerialize: encodeHealthCheckRequest,
    requestDeserialize: decodeHealthCheckRequest,
    responseSerialize: encodeHealthCheckResponse,
    responseDeserialize: decodeHealthCheckResponse,
  },
  watch: {
    path: "/grpc.health.v1.Health/Watch",
    requestStream: false,
    responseStream: true,
    requestSerialize: encodeHealthCheckRequest,
    requestDeserialize: decodeHealthCheckRequest,
    responseSerialize: encodeHealthCheckResponse,
    responseDeserialize: decodeHealthCheckResponse,
  },
};

/**
 * Adds `grpc.health.v1.Health` to `server`, reporting SERVING for the whole server (`""`) and for
 * each of `services` (full names, e.g. `flwr.proto.Fleet`).
 */
export function addHealthService(server: Server, services: readonly string[]): void {
  const known = new Set(["", ...services]);
  server.addService(HealthServiceDefinition, {
    check(
      call: ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>,
      callback: sendUnaryData<HealthCheckResponse>,
    ) {
      if (!known.has(call.request.service))
        callback({
          code: status.NOT_FOUND,
          details: `unknown service ${call.request.service.slice(0, 200)}`,
        });
      else callback(null, { status: ServingStatus.SERVING });
    },
    watch(call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) {
      // One message now; the stream stays open (the status does not change while the server
      // runs) until the client cancels or the server shuts down.
      call.write({
        status: known.has(call.request.service)
          ? ServingStatus.SERVING
          : ServingStatus.SERVICE_UNKNOWN,
      });
    },
  });
}
