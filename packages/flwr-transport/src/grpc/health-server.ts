/**
 * Flower's separate health server (`--health-server-address`, `flwr/supercore/grpc_health/`): a
 * plaintext gRPC server carrying only `grpc.health.v1.Health`, for probes that cannot speak TLS
 * or present a SuperNode signature. It reports SERVING for the whole process (`""`) and for each
 * service the process serves.
 */
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { addHealthService } from "./health-service.js";
import { guardServerSessions } from "./session-guard.js";

/** A running health server. */
export interface HealthServer {
  /** The bound port. */
  readonly port: number;
  /** Stops it (in-flight Watch streams are cancelled). */
  close(): Promise<void>;
}

/**
 * Starts a health server on `address` (`host:port`; port 0 picks a free one).
 * @param services - full names reported SERVING besides the whole server, e.g. `flwr.proto.Fleet`.
 * @throws Error when the address cannot be bound.
 */
export async function startHealthServer(
  address: string,
  services: readonly string[],
): Promise<HealthServer> {
  const server = new Server();
  addHealthService(server, services);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  guardServerSessions(server);
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 500).unref();
      }),
  };
}
