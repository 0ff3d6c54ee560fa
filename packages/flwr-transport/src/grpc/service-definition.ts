/**
 * Bridges ts-proto's generic service definitions (plain objects in
 * `@flwr-ts/core/proto`, free of any gRPC import) to grpc-js. Serializers hand grpc-js the
 * encoder's buffer without copying it; PushObjectRequest and PullObjectResponse (the object
 * chunks) are encoded with one copy (`object-message-encode.ts`).
 */
import { PullObjectResponse, PushObjectRequest } from "@flwr-ts/core/proto";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";
import type { ProtoCodec } from "../wire/service-definition.js";
import { type GenericMethod, type GenericService, methodPath } from "../wire/service-definition.js";
import { decodeRequest, InvalidUtf8Error, UndecodableRequest } from "../wire/strict-decode.js";
import {
  asBufferView,
  encodePullObjectResponse,
  encodePushObjectRequest,
} from "./object-message-encode.js";

export type {
  GenericMethod,
  GenericService,
  ProtoCodec,
  RequestOf,
  ResponseOf,
} from "../wire/service-definition.js";
export { methodPath } from "../wire/service-definition.js";

const cache = new WeakMap<GenericService, ServiceDefinition>();

/** The gRPC serializer of `codec`'s messages. */
function serializerOf(codec: ProtoCodec<unknown>): (value: unknown) => Buffer {
  if ((codec as unknown) === PushObjectRequest)
    return (value) => encodePushObjectRequest(value as PushObjectRequest);
  if ((codec as unknown) === PullObjectResponse)
    return (value) => encodePullObjectResponse(value as PullObjectResponse);
  return (value) => asBufferView(codec.encode(value).finish());
}

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
      requestSerialize: serializerOf(method.requestType),
      requestDeserialize: (bytes: Buffer) => {
        try {
          return decodeRequest(method.requestType, bytes);
        } catch (error) {
          if (error instanceof InvalidUtf8Error) return new UndecodableRequest(error.message);
          throw error;
        }
      },
      responseSerialize: serializerOf(method.responseType),
      responseDeserialize: (bytes: Buffer) => method.responseType.decode(bytes),
      originalName: method.name,
    };
  }
  cache.set(service, definition);
  return definition;
}
