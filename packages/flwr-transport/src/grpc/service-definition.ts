/**
 * Bridges ts-proto's generic service definitions (plain objects in
 * `@flwr-ts/core/proto`, free of any gRPC import) to grpc-js.
 */
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";
import { type GenericMethod, type GenericService, methodPath } from "../wire/service-definition.js";
import { decodeRequest, InvalidUtf8Error, UndecodableRequest } from "../wire/strict-decode.js";

export type {
  GenericMethod,
  GenericService,
  ProtoCodec,
  RequestOf,
  ResponseOf,
} from "../wire/service-definition.js";
export { methodPath } from "../wire/service-definition.js";

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
      requestDeserialize: (bytes: Buffer) => {
        try {
          return decodeRequest(method.requestType, bytes);
        } catch (error) {
          if (error instanceof InvalidUtf8Error) return new UndecodableRequest(error.message);
          throw error;
        }
      },
      responseSerialize: (value: unknown) =>
        Buffer.from(method.responseType.encode(value).finish()),
      responseDeserialize: (bytes: Buffer) => method.responseType.decode(bytes),
      originalName: method.name,
    };
  }
  cache.set(service, definition);
  return definition;
}
