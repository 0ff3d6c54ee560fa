/**
 * The SuperLink process in one object: a LinkState and an ObjectStore behind the APIs of both
 * Flowers, each handler written once and served on two wires:
 * - Flower 1.29's gRPC servers: Fleet (SuperNodes, authenticated by the node-auth middleware),
 *   Control (the `flwr` CLI) and ServerAppIo (app processes);
 * - Flower 1.40+'s one HTTP port ({@link SuperLinkOptions.httpAddress}, 8000 by default in
 *   `flower-superlink`): the same Fleet and Control handlers as protobuf over HTTP at
 *   `/v1/fleet/*` and `/v1/control/*`, with the same middleware, and the Runtime API of Flower
 *   1.42's ServerApp processes at `/v1/runtime/*` (`runtime/`).
 * Fleet, Control and HTTP use the same TLS key pair, or plaintext when `tls` is undefined.
 * `start()` binds and resolves with the bound ports (port 0 picks a free one); `stop()` shuts
 * every server down.
 */

import { ControlDefinition, FleetDefinition } from "@flwr-ts/core/proto";
import { ReplayCache, SignatureVerifier } from "@flwr-ts/crypto";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { flowerChannelOptions } from "../grpc/channel-options.js";
import { type HealthServer, startHealthServer } from "../grpc/health-server.js";
import { addHealthService } from "../grpc/health-service.js";
import { type MessageLimits, messageLimitOptions } from "../grpc/message-limits.js";
import { createServiceImplementation } from "../grpc/server-handlers.js";
import { guardServerSessions } from "../grpc/session-guard.js";
import { type ServerTlsFiles, serverCredentials } from "../grpc/tls.js";
import { inlineMaxFromEnv } from "../inline/inline-content.js";
import { createInlineAnnouncementMiddleware } from "../inline/inline-server.js";
import type { ObjectStore } from "../object-store/object-store.js";
import { createRuntimeAuthMiddleware } from "../protocol/runtime/runtime-auth-middleware.js";
import { createRuntimeVersionMiddleware } from "../protocol/runtime/runtime-version-middleware.js";
import { addServerAppIoService } from "../serverappio/serverappio-service.js";
import type { ServiceOptions } from "../wire/call-context.js";
import { withFleetCors } from "../wire/http/cors.js";
import { HttpRpcRouter } from "../wire/http/http-router.js";
import { type HttpRpcServer, listenHttp } from "../wire/http/http-server.js";
import { createControlAuthMiddleware } from "./auth/control-auth-middleware.js";
import { createNodeAuthMiddleware } from "./auth/node-auth-middleware.js";
import { withControlAudit } from "./control/control-audit.js";
import { type ControlRunHandlers, createControlHandlers } from "./control/control-servicer.js";
import { createFleetHandlers } from "./fleet/fleet-servicer.js";
import { type Logger, silentLogger } from "./logger.js";
import { listenMetrics, type MetricsServer } from "./metrics/metrics-server.js";
import { SuperLinkMetrics } from "./metrics/superlink-metrics.js";
import { createRuntimeHandlers } from "./runtime/runtime-handlers.js";
import { SuperLinkRuntimeDefinition } from "./runtime/runtime-server-definition.js";
import type { LinkState } from "./state/link-state.js";

/** Server options Flower uses (message sizes, keepalive, 1000 concurrent rpcs). */
export const SUPERLINK_SERVER_OPTIONS = {
  ...flowerChannelOptions,
  "grpc.max_concurrent_streams": 1000,
};

/** Options of {@link SuperLink}. */
export interface SuperLinkOptions {
  /** State (in-memory or SQLite). Closed by `stop()`. */
  state: LinkState;
  /** Object store. Closed by `stop()`. */
  store: ObjectStore;
  /** Fleet API address, e.g. `0.0.0.0:9092` or `127.0.0.1:0`. */
  fleetAddress: string;
  /** Control API address, e.g. `0.0.0.0:9093`. */
  controlAddress: string;
  /** PEM files for TLS on Fleet and Control; undefined = plaintext (`--insecure`). */
  tls?: ServerTlsFiles | undefined;
  /** `--enable-supernode-auth`: SuperNodes are registered only via the Control API. */
  enableSupernodeAuth: boolean;
  /** Replay protection of signed Fleet requests (default on). */
  replayProtection?: boolean;
  /**
   * Largest message (object bytes) exchanged inline with flwr-ts SuperNodes and ServerApps
   * (`inline/inline-content.ts`); 0 turns the extension off. Default: `FLWR_TS_INLINE_MAX_BYTES`
   * or 1 MiB.
   */
  inlineMaxBytes?: number;
  /** Run rpcs of the Control API (next issue); default UNIMPLEMENTED. */
  controlRunHandlers?: ControlRunHandlers;
  /** ServerAppIo API address (plaintext, like Flower); undefined = no ServerAppIo server. */
  serverAppIoAddress?: string | undefined;
  /**
   * Address of Flower 1.40+'s HTTP API (Fleet and Control as protobuf over HTTP, TLS as the gRPC
   * servers), e.g. `0.0.0.0:8000`; undefined = no HTTP server.
   */
  httpAddress?: string | undefined;
  /**
   * flwr-ts `--fleet-cors-origin`: origins whose web pages may call the HTTP Fleet API
   * (`wire/http/cors.ts`, the browser SuperNode); default none (no CORS headers).
   */
  fleetCorsOrigins?: readonly string[] | undefined;
  /**
   * Flower 1.42's SuperExec secret (`--superexec-auth-secret-file`): the HTTP Runtime API's
   * AcquireTask then needs a SuperExec signature; undefined = not checked, as in 1.42.
   */
  superExecAuthSecret?: Uint8Array | undefined;
  /**
   * Operator authentication on the Control API (`control-auth-middleware.ts`), both wires:
   * `required` refuses callers without an operator certificate (TLS client certificate signed by
   * the CA file, clientAuth, CN = name) or the `token`. Default: off, as in Flower (every caller
   * is `anonymous`). Requires `tls` with a CA file when required.
   */
  controlAuth?: { required: boolean; token?: string | undefined } | undefined;
  /**
   * Largest gRPC message received and sent on Fleet, Control and ServerAppIo
   * (`--grpc-max-receive-message-length` / `--grpc-max-send-message-length`); default Flower's
   * 2,147,483,647 bytes. A larger incoming message is answered RESOURCE_EXHAUSTED.
   */
  grpcMessageLimits?: MessageLimits | undefined;
  /**
   * Flower's `--health-server-address`: a separate plaintext gRPC server with only the health
   * service; undefined = none (the health service also answers on every API port).
   */
  healthServerAddress?: string | undefined;
  /**
   * `--metrics-address`: Prometheus metrics (`metrics/superlink-metrics.ts`) over plain HTTP at
   * `/metrics`; undefined = no metrics (nothing is counted).
   */
  metricsAddress?: string | undefined;
  /** Log sink; default silent. */
  log?: Logger;
}

/** Where the servers listen once started. */
export interface SuperLinkAddresses {
  /** Bound Fleet port. */
  fleetPort: number;
  /** Bound Control port. */
  controlPort: number;
  /** Bound ServerAppIo port (0 when not started). */
  serverAppIoPort: number;
  /** Bound HTTP port (0 when not started). */
  httpPort: number;
  /** Bound port of the health server (0 when not started). */
  healthPort: number;
  /** Bound port of the metrics endpoint (0 when not started). */
  metricsPort: number;
}

/** Binds `server` and applies Flower's metadata limit to it (`grpc/session-guard.ts`). */
async function bind(server: Server, address: string, creds: ServerCredentials): Promise<number> {
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, creds, (error, port) => (error ? reject(error) : resolve(port))),
  );
  guardServerSessions(server);
  return port;
}

function hostOf(address: string): string {
  const i = address.lastIndexOf(":");
  return i < 0 ? address : address.slice(0, i);
}

/** A SuperLink: state, object store, Fleet and Control servers. */
export class SuperLink {
  private readonly fleet: Server;
  private readonly control: Server;
  private readonly serverAppIo: Server;
  private detachServerAppIo: (() => void) | undefined;
  private detachRuntime: (() => void) | undefined;
  private http: HttpRpcServer | undefined;
  private health: HealthServer | undefined;
  private metricsServer: MetricsServer | undefined;
  private metrics: SuperLinkMetrics | undefined;
  private addresses: SuperLinkAddresses | undefined;
  private stopped = false;
  private readonly log: Logger;

  /** @param options - see {@link SuperLinkOptions}. */
  constructor(private readonly options: SuperLinkOptions) {
    this.log = options.log ?? silentLogger;
    // Message-size limits (`grpc/message-limits.ts`), Flower's 2 GiB - 1 unless configured.
    const serverOptions = {
      ...SUPERLINK_SERVER_OPTIONS,
      ...messageLimitOptions(options.grpcMessageLimits),
    };
    this.fleet = new Server(serverOptions);
    this.control = new Server(serverOptions);
    this.serverAppIo = new Server(serverOptions);
  }

  /** The state (for tests and embedding). */
  get state(): LinkState {
    return this.options.state;
  }

  /** The object store. */
  get store(): ObjectStore {
    return this.options.store;
  }

  /** Bound ports; throws before `start()`. */
  get ports(): SuperLinkAddresses {
    if (!this.addresses) throw new Error("SuperLink is not started");
    return this.addresses;
  }

  /**
   * Builds the services, binds every server and starts serving. The Control API is bound last,
   * so a start that fails on another port never opened it; the "Starting … API" lines are logged
   * once every server is bound.
   * @throws when a port cannot be bound or a TLS file cannot be read.
   */
  async start(): Promise<SuperLinkAddresses> {
    const { state, store, enableSupernodeAuth, tls } = this.options;
    const creds = serverCredentials(tls);
    const controlAuthRequired = this.options.controlAuth?.required === true;
    if (controlAuthRequired && !tls?.caCertFile)
      throw new Error("Operator authentication on the Control API needs TLS with a CA file.");
    const controlCreds = controlAuthRequired
      ? serverCredentials(tls, { requestClientCertificates: true })
      : creds;
    const onError = (method: string, error: unknown) =>
      this.log(
        "ERROR",
        `Unexpected error in ${method}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
    const inlineMaxBytes = this.options.inlineMaxBytes ?? inlineMaxFromEnv();
    if (this.options.metricsAddress !== undefined) this.metrics = new SuperLinkMetrics(state);
    const observers = this.metrics ? [this.metrics.observer] : [];
    const auth = createNodeAuthMiddleware({
      state,
      verifier: new SignatureVerifier(),
      replayCache: this.options.replayProtection === false ? null : new ReplayCache(),
    });
    const fleetHandlers = createFleetHandlers({
      state,
      store,
      enableSupernodeAuth,
      log: this.log,
      inlineMaxBytes,
    });
    const fleetOptions: ServiceOptions = {
      middleware: [auth, createInlineAnnouncementMiddleware(inlineMaxBytes)],
      onError,
      observers,
    };
    // Authorization and audit wrap the Control handlers once, for both wires.
    const controlHandlers = withControlAudit(
      createControlHandlers({
        state,
        store,
        ...(this.options.controlRunHandlers
          ? { runHandlers: this.options.controlRunHandlers }
          : {}),
      }),
      this.log,
    );
    const controlOptions: ServiceOptions = {
      middleware: [
        createControlAuthMiddleware({
          required: controlAuthRequired,
          token: this.options.controlAuth?.token,
          log: this.log,
        }),
      ],
      onError,
      observers,
    };
    const fleet = createServiceImplementation(FleetDefinition, fleetHandlers, fleetOptions);
    this.fleet.addService(fleet.definition, fleet.implementation);
    const control = createServiceImplementation(ControlDefinition, controlHandlers, controlOptions);
    this.control.addService(control.definition, control.implementation);
    addHealthService(this.fleet, [FleetDefinition.fullName]);
    addHealthService(this.control, [ControlDefinition.fullName]);
    const started: string[] = [];
    const fleetPort = await bind(this.fleet, this.options.fleetAddress, creds);
    started.push(
      `Flower Deployment Runtime: Starting Fleet API (gRPC-rere) on ${hostOf(this.options.fleetAddress)}:${fleetPort}`,
    );
    let serverAppIoPort = 0;
    if (this.options.serverAppIoAddress !== undefined) {
      this.detachServerAppIo = addServerAppIoService(this.serverAppIo, {
        state,
        store,
        log: this.log,
        onError,
        inlineMaxBytes,
        observers,
      });
      addHealthService(this.serverAppIo, ["flwr.proto.ServerAppIo"]);
      serverAppIoPort = await bind(
        this.serverAppIo,
        this.options.serverAppIoAddress,
        ServerCredentials.createInsecure(),
      );
      started.push(
        `Flower Deployment Runtime: Starting ServerAppIo API on ${hostOf(this.options.serverAppIoAddress)}:${serverAppIoPort}`,
      );
    }
    let httpPort = 0;
    if (this.options.httpAddress !== undefined) {
      const runtime = createRuntimeHandlers({ state, store, log: this.log });
      this.detachRuntime = runtime.close;
      const runtimeAuth = createRuntimeAuthMiddleware({
        state,
        superExecAuthSecret: this.options.superExecAuthSecret,
      });
      const router = new HttpRpcRouter()
        .addService(FleetDefinition, fleetHandlers, fleetOptions)
        .addService(ControlDefinition, controlHandlers, controlOptions)
        .addService(SuperLinkRuntimeDefinition, runtime.handlers, {
          // The version check runs first, as 1.42's router-level dependency does.
          middleware: [createRuntimeVersionMiddleware(), runtimeAuth],
          onError,
          observers,
        });
      const handle = withFleetCors(router.handle, this.options.fleetCorsOrigins ?? []);
      this.http = await listenHttp({ handle }, this.options.httpAddress, tls, {
        requestClientCertificates: controlAuthRequired,
      });
      httpPort = this.http.port;
      started.push(
        `Flower Deployment Runtime: Starting HTTP API (Fleet, Control) on ${hostOf(this.options.httpAddress)}:${httpPort}`,
        `Flower Deployment Runtime: Starting Runtime HTTP API on ${hostOf(this.options.httpAddress)}:${httpPort} (SuperExec auth ${this.options.superExecAuthSecret ? "on" : "off"})`,
      );
    }
    let healthPort = 0;
    if (this.options.healthServerAddress !== undefined) {
      this.health = await startHealthServer(this.options.healthServerAddress, [
        FleetDefinition.fullName,
        ControlDefinition.fullName,
        ...(this.options.serverAppIoAddress !== undefined ? ["flwr.proto.ServerAppIo"] : []),
      ]);
      healthPort = this.health.port;
      started.push(
        `Starting gRPC health server on ${hostOf(this.options.healthServerAddress)}:${healthPort}`,
      );
    }
    let metricsPort = 0;
    if (this.metrics && this.options.metricsAddress !== undefined) {
      this.metricsServer = await listenMetrics(this.metrics, this.options.metricsAddress, (error) =>
        this.log("ERROR", `Metrics endpoint failed: ${(error as Error).message}`),
      );
      metricsPort = this.metricsServer.port;
      started.push(
        `flwr-ts: serving Prometheus metrics on http://${hostOf(this.options.metricsAddress)}:${metricsPort}/metrics`,
      );
    }
    const controlPort = await bind(this.control, this.options.controlAddress, controlCreds);
    this.log(
      "INFO",
      `Flower Deployment Runtime: Starting Control API on ${hostOf(this.options.controlAddress)}:${controlPort} (operator auth ${controlAuthRequired ? "required" : "off"})`,
    );
    for (const text of started) this.log("INFO", text);
    this.addresses = {
      fleetPort,
      controlPort,
      serverAppIoPort,
      httpPort,
      healthPort,
      metricsPort,
    };
    return this.addresses;
  }

  /**
   * Stops both servers: in-flight calls get `graceMs` to finish, then are cancelled; closes the
   * state and the store. Idempotent.
   */
  async stop(graceMs = 1000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all([
      ...[this.fleet, this.control, this.serverAppIo].map((s) => shutdown(s, graceMs)),
      this.http?.close(graceMs),
      this.health?.close(),
      this.metricsServer?.close(),
    ]);
    this.metrics?.close();
    this.detachServerAppIo?.();
    this.detachRuntime?.();
    this.options.state.close();
    this.options.store.close();
  }
}

function shutdown(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
