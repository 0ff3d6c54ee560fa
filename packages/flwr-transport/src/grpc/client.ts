/**
 * Typed promise-based clients for generated generic service definitions.
 */
import {
  type ChannelCredentials,
  type ChannelOptions,
  Metadata,
  makeGenericClientConstructor,
} from "@grpc/grpc-js";
import { TRACE_ENABLED, traceNow, traceSpan } from "../diagnostics/trace.js";
import type { MutableMetadata, RequestMetadata } from "../wire/metadata.js";
import {
  type CallOptions,
  type MetadataProvider,
  metadataEntries,
  type ServiceClient,
} from "../wire/service-client.js";
import { type GenericService, methodPath, toGrpcServiceDefinition } from "./service-definition.js";

export type { CallOptions, MetadataProvider, ServiceClient } from "../wire/service-client.js";

/** Options of {@link createClient}. */
export interface ClientOptions {
  /** grpc-js channel options. */
  channelOptions?: ChannelOptions;
  /** Metadata added to every call (merged before per-call metadata). */
  metadata?: MetadataProvider;
  /** Receives the response headers of every unary call (before its per-call listener). */
  onResponseMetadata?: (metadata: RequestMetadata) => void;
}

/**
 * Creates a typed client of `service` on `address` (`host:port`).
 * @example const fleet = createClient(FleetDefinition, "127.0.0.1:9092", credentials.createInsecure());
 */
export function createClient<S extends GenericService>(
  service: S,
  address: string,
  credentials: ChannelCredentials,
  options: ClientOptions = {},
): ServiceClient<S> {
  const Ctor = makeGenericClientConstructor(toGrpcServiceDefinition(service), service.name);
  const raw = new Ctor(address, credentials, options.channelOptions ?? {});
  const client: Record<string, unknown> = {
    close: () => raw.close(),
  };
  for (const [key, m] of Object.entries(service.methods)) {
    const path = methodPath(service, m);
    const fn = (raw as unknown as Record<string, (...args: unknown[]) => unknown>)[key]!.bind(raw);
    const prepare = async (callOptions: CallOptions = {}) => {
      const md = options.metadata ? toGrpcMetadata(await options.metadata(path)) : new Metadata();
      if (callOptions.metadata) md.merge(toGrpcMetadata(callOptions.metadata));
      const grpcOptions =
        callOptions.timeoutMs === undefined ? {} : { deadline: Date.now() + callOptions.timeoutMs };
      return { md, grpcOptions };
    };
    if (m.responseStream) {
      client[key] = (request: unknown, callOptions?: CallOptions) =>
        streamCall(fn, request, prepare(callOptions), callOptions?.signal);
    } else {
      const short = m.name;
      client[key] = async (request: unknown, callOptions?: CallOptions) => {
        const t0 = TRACE_ENABLED ? traceNow() : 0;
        const { md, grpcOptions } = await prepare(callOptions);
        const t1 = TRACE_ENABLED ? traceNow() : 0;
        const signal = callOptions?.signal;
        return new Promise((resolve, reject) => {
          const call = fn(request, md, grpcOptions, (error: Error | null, response: unknown) => {
            // A long-lived signal (a whole SuperExec or SuperNode) must not collect one
            // listener per finished call.
            signal?.removeEventListener("abort", onAbort);
            if (TRACE_ENABLED)
              traceSpan("rpc.c", t0, {
                m: short,
                prep: +(t1 - t0).toFixed(3),
                err: error?.message,
              });
            if (error) reject(error);
            else resolve(response);
          }) as { cancel(): void; on(event: "metadata", fn: (md: Metadata) => void): void };
          const onMetadata = callOptions?.onResponseMetadata;
          if (options.onResponseMetadata) call.on("metadata", options.onResponseMetadata);
          if (onMetadata) call.on("metadata", onMetadata);
          function onAbort() {
            call.cancel();
          }
          signal?.addEventListener("abort", onAbort, { once: true });
        });
      };
    }
  }
  return client as ServiceClient<S>;
}

/**
 * `metadata` as grpc-js `Metadata`: itself when it is one, else a copy of every value (a `-bin`
 * key needs a Buffer value, as grpc-js requires).
 */
export function toGrpcMetadata(metadata: MutableMetadata): Metadata {
  if (metadata instanceof Metadata) return metadata;
  const md = new Metadata();
  for (const [key, values] of metadataEntries(metadata)) for (const v of values) md.add(key, v);
  return md;
}

async function* streamCall(
  fn: (...args: unknown[]) => unknown,
  request: unknown,
  prepared: Promise<{ md: Metadata; grpcOptions: object }>,
  signal: AbortSignal | undefined,
): AsyncIterable<unknown> {
  const { md, grpcOptions } = await prepared;
  const call = fn(request, md, grpcOptions) as AsyncIterable<unknown> & { cancel(): void };
  const onAbort = () => call.cancel();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for await (const message of call) yield message;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    call.cancel();
  }
}
