/**
 * Bridges ts-proto's generic service definitions (plain objects in
 * `@flwr-ts/core/proto`, free of any gRPC import) to grpc-js.
 */
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";

/** Encoder/decoder pair of one generated protobuf message type. */
export interface ProtoCodec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
}

/** One rpc of a generated generic service definition. */
export interface GenericMethod<Req = unknown, Res = unknown> {
  readonly name: string;
  readonly requestType: ProtoCodec<Req>;
  readonly requestStream: boolean;
  readonly responseType: ProtoCodec<Res>;
  readonly responseStream: boolean;
}

/** A generated generic service definition, e.g. `FleetDefinition`. */
export interface GenericService {
  readonly name: string;
  readonly fullName: string;
  readonly methods: Readonly<Record<string, GenericMethod<never, never> | GenericMethod>>;
}

/** Request type of a method definition. */
export type RequestOf<M> = M extends { requestType: ProtoCodec<infer Req> } ? Req : never;
/** Response type of a method definition. */
export type ResponseOf<M> = M extends { responseType: ProtoCodec<infer Res> } ? Res : never;

/** The gRPC path of an rpc: `/flwr.proto.Fleet/RegisterNode`. */
export function methodPath(
  service: GenericService,
  method: GenericMethod<never, never> | GenericMethod,
): string {
  return `/${service.fullName}/${method.name}`;
}

const cache = new WeakMap<GenericService, ServiceDefinition>();

/**
 * Converts a generic definition to a grpc-js `ServiceDefinition` whose keys are
 * the camelCase method names of the generated definition.
 */
export function toGrpcServiceDefinition(service: GenericService): ServiceDefinition {
  const cached = cache.get(service);
  if (cached) return cached;
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const [key, m] of Object.entries(service.methods)) {
    const method = m as GenericMethod;
    definition[key] = {
      path: methodPath(service, method),
      requestStream: method.requestStream,
      responseStream: method.responseStream,
      requestSerialize: (value: unknown) => Buffer.from(method.requestType.encode(value).finish()),
      requestDeserialize: (bytes: Buffer) => method.requestType.decode(bytes),
      responseSerialize: (value: unknown) =>
        Buffer.from(method.responseType.encode(value).finish()),
      responseDeserialize: (bytes: Buffer) => method.responseType.decode(bytes),
      originalName: method.name,
    };
  }
  cache.set(service, definition);
  return definition;
}
