/**
 * ts-proto's generic service definitions (plain objects in `@flwr-ts/core/proto`, free of any
 * wire import), typed for both adapters: `grpc/` turns them into grpc-js definitions, `http/`
 * into routes.
 */

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

/** The gRPC path of an rpc, which names it on every wire: `/flwr.proto.Fleet/RegisterNode`. */
export function methodPath(
  service: GenericService,
  method: GenericMethod<never, never> | GenericMethod,
): string {
  return `/${service.fullName}/${method.name}`;
}
