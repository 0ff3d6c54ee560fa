/**
 * `flower-superlink` arguments: Flower 1.29's flags and defaults and Flower 1.42's
 * (`flwr/superlink/cli/flower_superlink.py`), parsed with commander (`@flwr-ts/core/cli`) and validated
 * with zod, then checked in Flower's order with Flower's messages.
 *
 * One process serves both Flowers: 1.29's gRPC APIs on `--fleet-api-address` (9092),
 * `--control-api-address` (9093) and `--serverappio-api-address` (9091), and 1.42's HTTP API
 * (Fleet and Control as protobuf over HTTP) on `--host`/`--port`, 127.0.0.1:8000 by default as
 * in 1.42 (`--host 0.0.0.0` lets SuperNodes on other machines in). `--port 0` picks a free port;
 * `--no-http-api` serves gRPC only. Flags 1.42 removed (`--serverappio-api-address`,
 * `--fleet-api-address`, …) keep their 1.29 meaning here, since the gRPC servers stay.
 */

import { existsSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { LOG_FORMATS, type LogFormat } from "@flwr-ts/core";
import { type CliSpec, CliUsageError, parseCli, renderHelp } from "@flwr-ts/core/cli";
import { z } from "zod";
import {
  FLOWER_MESSAGE_LIMITS,
  type MessageLimits,
  messageLengthFlag,
} from "../../grpc/message-limits.js";
import type { ServerTlsFiles } from "../../grpc/tls.js";
import {
  ControlAuthTokenError,
  readControlAuthToken,
} from "../../protocol/control-auth/control-auth-token.js";
import { loadSuperExecAuthSecret } from "../../protocol/runtime/superexec-auth.js";
import { parseCorsOrigins } from "../../wire/http/cors.js";
import { ExitCode, FlowerExit } from "../flower-exit.js";
import { DEFAULT_RUN_LOG_MAX_BYTES, MIN_RUN_LOG_MAX_BYTES } from "../state/log-retention.js";

/**
 * Default `--serverappio-api-address`: loopback (Flower's is `0.0.0.0:9091`). ServerAppIo is
 * plaintext and gives a run's token to any caller that asks first, so it is not exposed to the
 * network unless the operator says so.
 */
export const DEFAULT_SERVERAPPIO_ADDRESS = "127.0.0.1:9091";

/** Flower's in-memory database name (the default of `--database`). */
export const IN_MEMORY_DATABASE = ":flwr-in-memory:";

/** Options and help of `flower-superlink` (parsed by commander through `@flwr-ts/core/cli`). */
export const SUPERLINK_SPEC: CliSpec = {
  name: "flower-superlink",
  description: "Start a Flower SuperLink (flwr-ts).",
  version: true,
  options: [
    { name: "insecure", help: "Run the server without HTTPS (TLS disabled)." },
    {
      name: "simulation",
      help: "Run runs in simulation: each run's ServerApp drives virtual SuperNodes (options.num-supernodes of its federation config, default 10) on the flwr-ts Simulation Engine instead of connected SuperNodes.",
    },
    { name: "ssl-certfile", metavar: "FILE", help: "Server TLS certificate file (PEM)." },
    { name: "ssl-keyfile", metavar: "FILE", help: "Server TLS private key file (PEM)." },
    { name: "ssl-ca-certfile", metavar: "FILE", help: "CA certificate file (PEM)." },
    {
      name: "isolation",
      metavar: "MODE",
      choices: ["subprocess", "process"],
      help: "Where ServerApps run: subprocess (started by this SuperLink) or process (an operator's flower-superexec).",
      default: "subprocess",
    },
    {
      name: "database",
      metavar: "PATH|URL",
      help: "':flwr-in-memory:' (default), a SQLite file path or sqlite:///path (one SuperLink per file), ':memory:', or postgresql://user[:password]@host[:port]/database[?schema=name] (also postgres://): state shared by several SuperLinks.",
      default: IN_MEMORY_DATABASE,
    },
    {
      name: "storage-dir",
      metavar: "DIR",
      help: "Directory for FABs.",
      default: "~/.flwr/superlink/ffs",
    },
    {
      name: "enable-supernode-auth",
      help: "Only SuperNodes registered with 'flwr supernode register' may connect.",
    },
    { name: "auth-list-public-keys", metavar: "CSV", help: "Removed in Flower.", hidden: true },
    {
      name: "serverappio-api-address",
      metavar: "ADDRESS",
      help: "ServerAppIo API address (Flower's default is 0.0.0.0:9091). ServerAppIo is plaintext and hands out run tokens: with --isolation process and a flwr-serverapp on another machine or container, pass 0.0.0.0:9091 and keep the port behind a firewall.",
      default: DEFAULT_SERVERAPPIO_ADDRESS,
    },
    { name: "simulationio-api-address", metavar: "ADDRESS", help: "Deprecated.", hidden: true },
    {
      name: "fleet-api-type",
      metavar: "TYPE",
      choices: ["grpc-rere"],
      help: "Fleet API transport.",
      default: "grpc-rere",
    },
    {
      name: "fleet-api-address",
      metavar: "ADDRESS",
      help: "gRPC Fleet API address.",
      default: "0.0.0.0:9092",
    },
    {
      name: "control-api-address",
      metavar: "ADDRESS",
      help: "gRPC Control API address.",
      default: "0.0.0.0:9093",
    },
    { name: "exec-api-address", metavar: "ADDRESS", help: "Deprecated.", hidden: true },
    {
      name: "host",
      metavar: "HOST",
      help: "Host of the HTTP API (Flower 1.40+'s Fleet and Control).",
      default: "127.0.0.1",
    },
    {
      name: "port",
      metavar: "PORT",
      help: "Port of the HTTP API; 0 picks a free port.",
      default: "8000",
    },
    { name: "no-http-api", help: "Serve only the gRPC APIs of Flower 1.29." },
    {
      name: "fleet-cors-origin",
      metavar: "ORIGINS",
      help: "flwr-ts: comma-separated origins (e.g. https://127.0.0.1:8443) whose web pages may call the HTTP Fleet API (CORS, for the browser SuperNode of @flwr-ts/web). Off unless set; Control is never CORS-enabled.",
    },
    {
      name: "superexec-auth-secret-file",
      metavar: "FILE",
      help: "File with the SuperExec shared secret (exact bytes): with --isolation process, the HTTP Runtime API's AcquireTask needs Flower 1.42's SuperExec HMAC signature (ignored in subprocess mode).",
    },
    {
      name: "require-control-auth",
      help: "flwr-ts: Control API calls (flwr run/stop/ls/log, flwr supernode …) need an operator: a TLS client certificate signed by --ssl-ca-certfile (flwr-ts gen-certs --operator NAME) or the token of --control-auth-token-file. Off by default, as in Flower (Python's flwr CLI cannot present a certificate; it can send the token, see the README).",
    },
    {
      name: "control-auth-token-file",
      metavar: "FILE",
      help: "File with the operator token (one line, 32-512 visible ASCII characters, e.g. `openssl rand -hex 32`); needs --require-control-auth.",
    },
    {
      name: "run-log-max-bytes",
      metavar: "BYTES",
      help: `flwr-ts: cap of each run's stored ServerApp log (flwr log), in bytes (at least ${MIN_RUN_LOG_MAX_BYTES}); beyond it the run's oldest entries are deleted. Flower keeps every line.`,
      default: String(DEFAULT_RUN_LOG_MAX_BYTES),
    },
    {
      name: "grpc-max-receive-message-length",
      metavar: "BYTES",
      help: "Largest gRPC message the Fleet, Control and ServerAppIo servers receive (1 to 2147483647).",
      default: "2147483647",
    },
    {
      name: "grpc-max-send-message-length",
      metavar: "BYTES",
      help: "Largest gRPC message they send (1 to 2147483647).",
      default: "2147483647",
    },
    {
      name: "health-server-address",
      metavar: "ADDRESS",
      help: "Health service gRPC server address with no TLS (Flower's flag; the health service also answers on every API port). Not started unless set.",
    },
    {
      name: "metrics-address",
      metavar: "ADDRESS",
      help: "flwr-ts: serve Prometheus metrics (plain HTTP, GET /metrics) on this host:port: SuperNodes by status, runs by status, rpc calls and errors by method and code, rpc and message-exchange latency. Off unless set; keep it on loopback or behind a firewall.",
    },
    {
      name: "log-format",
      metavar: "FORMAT",
      choices: ["text", "json"],
      help: "text (Flower's console lines) or json (one JSON object per line: time, level, component, message).",
      default: "text",
    },
    { name: "verbose", help: "Print DEBUG log lines." },
  ],
};

/** Usage text of `flower-superlink --help` (uncoloured, 80 columns). */
export const SUPERLINK_USAGE = renderHelp(SUPERLINK_SPEC, { color: false, width: 80 });

/** The validated configuration of a SuperLink process. */
export interface SuperLinkConfig {
  /** TLS files, or undefined for `--insecure`. */
  tls: ServerTlsFiles | undefined;
  /** `--enable-supernode-auth`. */
  enableSupernodeAuth: boolean;
  /** Normalized Fleet address. */
  fleetAddress: string;
  /** Normalized Control address. */
  controlAddress: string;
  /** Normalized ServerAppIo address. */
  serverAppIoAddress: string;
  /** Normalized address of the HTTP API (`--host`:`--port`), or undefined with `--no-http-api`. */
  httpAddress: string | undefined;
  /** `--fleet-cors-origin`: origins allowed to call the HTTP Fleet API from a web page (empty: off). */
  fleetCorsOrigins: string[];
  /** `:flwr-in-memory:` or a SQLite path. */
  database: string;
  /** FAB storage directory. */
  storageDir: string;
  /** Isolation mode. */
  isolation: "subprocess" | "process";
  /** `--simulation`: runs are simulations (their ServerApp drives the Simulation Engine). */
  simulation: boolean;
  /** DEBUG logs. */
  verbose: boolean;
  /** `--log-format`: Flower's console text or NDJSON. */
  logFormat: LogFormat;
  /** `--health-server-address` (normalized), or undefined. */
  healthServerAddress: string | undefined;
  /** `--metrics-address` (normalized), or undefined. */
  metricsAddress: string | undefined;
  /** `--run-log-max-bytes`: cap of each run's stored log text. */
  runLogMaxBytes: number;
  /** `--grpc-max-receive-message-length` / `--grpc-max-send-message-length` (gRPC servers). */
  grpcMessageLimits: MessageLimits;
  /**
   * `--superexec-auth-secret-file`'s bytes (Flower 1.42): the Runtime API's AcquireTask needs a
   * SuperExec signature. Undefined without the flag or in subprocess isolation (1.42 ignores it
   * there).
   */
  superExecAuthSecret?: Uint8Array | undefined;
  /**
   * Operator authentication on the Control API (`--require-control-auth`, with the token of
   * `--control-auth-token-file`); `required: false` without the flag.
   */
  controlAuth: { required: boolean; token?: string | undefined };
  /** Warnings to log before starting. */
  warnings: string[];
}

/** What the CLI should do. */
export type SuperLinkCommand =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "run"; config: SuperLinkConfig };

const optionsSchema = z.object({
  insecure: z.boolean().default(false),
  "ssl-certfile": z.string().min(1).optional(),
  "ssl-keyfile": z.string().min(1).optional(),
  "ssl-ca-certfile": z.string().min(1).optional(),
  isolation: z.enum(["subprocess", "process"]).default("subprocess"),
  simulation: z.boolean().default(false),
  database: z.string().min(1).default(IN_MEMORY_DATABASE),
  "storage-dir": z.string().min(1).optional(),
  "enable-supernode-auth": z.boolean().default(false),
  "auth-list-public-keys": z.string().optional(),
  "serverappio-api-address": z.string().default(DEFAULT_SERVERAPPIO_ADDRESS),
  "simulationio-api-address": z.string().optional(),
  "fleet-api-type": z.string().default("grpc-rere"),
  "fleet-api-address": z.string().optional(),
  "control-api-address": z.string().default("0.0.0.0:9093"),
  "exec-api-address": z.string().optional(),
  host: z.string().min(1).default("127.0.0.1"),
  port: z
    .string()
    .regex(/^\d{1,5}$/, "must be a port number")
    .transform(Number)
    .refine((p) => p <= 65535, "value must be between 1 and 65535")
    .default(8000),
  "no-http-api": z.boolean().default(false),
  "fleet-cors-origin": z.string().optional(),
  "superexec-auth-secret-file": z.string().optional(),
  "require-control-auth": z.boolean().default(false),
  "control-auth-token-file": z.string().min(1, "must be a file path").optional(),
  "run-log-max-bytes": z
    .string()
    .regex(/^\d{1,15}$/, "must be a whole number of bytes, e.g. 16777216")
    .transform(Number)
    .refine((n) => n >= MIN_RUN_LOG_MAX_BYTES, `must be at least ${MIN_RUN_LOG_MAX_BYTES}`)
    .default(DEFAULT_RUN_LOG_MAX_BYTES),
  "grpc-max-receive-message-length": messageLengthFlag.optional(),
  "grpc-max-send-message-length": messageLengthFlag.optional(),
  "health-server-address": z.string().optional(),
  "metrics-address": z.string().optional(),
  "log-format": z
    .enum(LOG_FORMATS as [LogFormat, ...LogFormat[]], {
      error: (i) => `invalid choice: '${String(i.input)}' (choose from 'text', 'json')`,
    })
    .default("text"),
  verbose: z.boolean().default(false),
  help: z.boolean().default(false),
  version: z.boolean().default(false),
});

/**
 * Parses an address like Flower's `parse_address`: `host:port`, `[v6]:port`; port 0–65535.
 * @returns the normalized `host:port` (`[v6]:port`), or undefined when it cannot be parsed.
 */
export function normalizeAddress(address: string): string | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)|([0-9a-fA-F:]+:[0-9a-fA-F:]*)):(\d{1,5})$/.exec(
    address,
  );
  if (!m) return undefined;
  const port = Number(m[4]);
  if (port > 65535) return undefined;
  const v6 = m[1] ?? m[3];
  return v6 !== undefined ? `[${v6}]:${port}` : `${m[2]}:${port}`;
}

function addressOrExit(address: string): string {
  const normalized = normalizeAddress(address);
  if (!normalized)
    throw FlowerExit.code(
      ExitCode.COMMON_ADDRESS_INVALID,
      `Address (${address}) cannot be parsed.`,
    );
  return normalized;
}

function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(":") + 1));
}

function httpAddressOrExit(host: string, port: number): string {
  const address =
    host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
  return addressOrExit(address);
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

const TLS_PARTIAL =
  "You need to provide valid file paths to `--ssl-certfile`, `--ssl-keyfile`, and `—-ssl-ca-certfile` to create a secure connection in Fleet API server (gRPC-rere).";

/** Flower's message when neither certificates nor `--insecure` are given. */
export const CERTIFICATES_REQUIRED =
  "Certificates are required unless running in insecure mode. Please provide certificate paths to `--ssl-certfile`, `--ssl-keyfile`, and `—-ssl-ca-certfile` or run the server in insecure mode using '--insecure' if you understand the risks.";

const AUTH_NEEDS_TLS =
  "The `--enable-supernode-auth` flag requires encrypted TLS communications. Please provide TLS certificates using the `--ssl-certfile`, `--ssl-keyfile` and `--ssl-ca-certfile` arguments to your SuperLink. Please refer to the Flower documentation for more information: https://flower.ai/docs/framework/v1.29.0/en/how-to-authenticate-supernodes.html";

/**
 * Parses and validates `argv` (without node and script).
 * @throws FlowerExit with Flower's message and status for every invalid combination.
 */
export function parseSuperLinkArgs(argv: readonly string[]): SuperLinkCommand {
  let values: Record<string, unknown>;
  try {
    const cli = parseCli(SUPERLINK_SPEC, argv);
    values = { ...cli.values, help: cli.help, version: cli.version };
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    // argparse's wording, on one line, with commander's suggestion and the pointer to --help.
    const hint = error.suggestion === undefined ? "" : ` (did you mean ${error.suggestion}?)`;
    const what =
      error.kind === "missing-value"
        ? `argument ${error.subject}: expected one argument`
        : `unrecognized arguments: ${error.subject}${hint}`;
    throw new FlowerExit(
      2,
      `flower-superlink: error: ${what}; see 'flower-superlink --help'`,
      "plain",
    );
  }
  const parsed = optionsSchema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new FlowerExit(
      2,
      `flower-superlink: error: argument --${String(issue.path[0])}: ${issue.message}`,
      "plain",
    );
  }
  const o = parsed.data;
  if (o.help) return { kind: "help" };
  if (o.version) return { kind: "version" };

  const warnings: string[] = [];
  if (o["exec-api-address"] !== undefined) {
    if (argv.some((a) => a === "--control-api-address" || a.startsWith("--control-api-address=")))
      throw FlowerExit.code(
        ExitCode.SUPERLINK_INVALID_ARGS,
        "Both `--control-api-address` and `--exec-api-address` are set. Please use only `--control-api-address` as `--exec-api-address` is deprecated.",
      );
    warnings.push(
      "The `--exec-api-address` argument is deprecated and will be removed in a future release. Use `--control-api-address` instead.",
    );
  }
  const serverAppIoAddress = addressOrExit(
    o["simulationio-api-address"] ?? o["serverappio-api-address"],
  );
  const controlAddress = addressOrExit(o["exec-api-address"] ?? o["control-api-address"]);

  // Certificates (Flower's try_obtain_server_certificates).
  let tls: ServerTlsFiles | undefined;
  const ca = o["ssl-ca-certfile"];
  const cert = o["ssl-certfile"];
  const key = o["ssl-keyfile"];
  if (o.insecure) {
    warnings.push(
      "Option `--insecure` was set. Starting insecure HTTP server with unencrypted communication (TLS disabled). Proceed only if you understand the risks.",
    );
  } else if (ca && cert && key) {
    if (!isFile(ca))
      throw FlowerExit.plain("Path argument `--ssl-ca-certfile` does not point to a file.");
    if (!isFile(cert))
      throw FlowerExit.plain("Path argument `--ssl-certfile` does not point to a file.");
    if (!isFile(key))
      throw FlowerExit.plain("Path argument `--ssl-keyfile` does not point to a file.");
    tls = { caCertFile: ca, certFile: cert, keyFile: key };
  } else if (ca || cert || key) {
    throw FlowerExit.plain(TLS_PARTIAL);
  } else {
    throw new FlowerExit(1, CERTIFICATES_REQUIRED, "ERROR");
  }

  const enableSupernodeAuth = o["enable-supernode-auth"];
  if (enableSupernodeAuth) {
    if (o.insecure) throw FlowerExit.code(ExitCode.SUPERLINK_INVALID_ARGS, AUTH_NEEDS_TLS);
    if (o["fleet-api-type"] !== "grpc-rere")
      throw FlowerExit.code(
        ExitCode.SUPERLINK_INVALID_ARGS,
        "The `--enable-supernode-auth` flag is only supported with the gRPC-rere Fleet API transport. Please set `--fleet-api-type` to `grpc-rere`.",
      );
  } else {
    warnings.push(
      "SuperNode authentication is disabled. The SuperLink will accept connections from any SuperNode.",
    );
  }
  if (o["auth-list-public-keys"] !== undefined)
    throw FlowerExit.code(
      ExitCode.SUPERLINK_INVALID_ARGS,
      "The `--auth-list-public-keys` argument is no longer supported. To enable SuperNode authentication,  use the `--enable-supernode-auth` flag and use the Flower CLI to register SuperNodes by supplying their public keys. Please refer to the Flower documentation for more information: https://flower.ai/docs/framework/v1.29.0/en/how-to-authenticate-supernodes.html",
    );
  if (o["fleet-api-type"] !== "grpc-rere")
    throw FlowerExit.code(
      ExitCode.SUPERLINK_INVALID_ARGS,
      `Fleet API type '${o["fleet-api-type"]}' is not supported by the flwr-ts SuperLink; use 'grpc-rere'.`,
    );
  const fleetAddress = addressOrExit(o["fleet-api-address"] ?? "0.0.0.0:9092");
  const httpAddress = o["no-http-api"] ? undefined : httpAddressOrExit(o.host, o.port);
  let fleetCorsOrigins: string[] = [];
  if (o["fleet-cors-origin"] !== undefined) {
    try {
      fleetCorsOrigins = parseCorsOrigins(o["fleet-cors-origin"]);
    } catch (error) {
      throw FlowerExit.code(
        ExitCode.SUPERLINK_INVALID_ARGS,
        `Invalid \`--fleet-cors-origin\`: ${(error as Error).message}.`,
      );
    }
    if (httpAddress === undefined)
      throw FlowerExit.code(
        ExitCode.SUPERLINK_INVALID_ARGS,
        "`--fleet-cors-origin` applies to the HTTP Fleet API, which `--no-http-api` turns off.",
      );
  }
  if (httpAddress !== undefined && o.port !== 0) {
    for (const [flag, address] of [
      ["--fleet-api-address", fleetAddress],
      ["--control-api-address", controlAddress],
      ["--serverappio-api-address", serverAppIoAddress],
    ] as const) {
      if (portOf(address) === o.port)
        throw FlowerExit.code(
          ExitCode.SUPERLINK_INVALID_ARGS,
          `The HTTP API (--port ${o.port}) and the gRPC API of ${flag} (${address}) cannot share a port. Choose another \`--port\`, or pass \`--no-http-api\`.`,
        );
    }
  }

  // Flower 1.42's SuperExec secret (`flower_superlink.py:327-351`): experimental, only in
  // process isolation, an unreadable or empty file is SUPERLINK_INVALID_ARGS.
  let superExecAuthSecret: Uint8Array | undefined;
  const secretFile = o["superexec-auth-secret-file"];
  if (secretFile !== undefined) {
    warnings.push(
      "EXPERIMENTAL: SuperExec authentication is experimental and may change in future releases.",
    );
    if (o.isolation === "subprocess") {
      warnings.push("SuperExec auth secret is ignored in subprocess isolation mode.");
    } else {
      try {
        superExecAuthSecret = loadSuperExecAuthSecret(secretFile.replace(/^~(?=\/|$)/, homedir()));
      } catch (error) {
        throw FlowerExit.code(
          ExitCode.SUPERLINK_INVALID_ARGS,
          `Failed to load SuperExec authentication secret: ${(error as Error).message}`,
        );
      }
    }
  }

  // flwr-ts's operator authentication on the Control API.
  let controlAuth: SuperLinkConfig["controlAuth"] = { required: false };
  const tokenFile = o["control-auth-token-file"];
  if (o["require-control-auth"]) {
    if (!tls)
      throw FlowerExit.code(
        ExitCode.SUPERLINK_INVALID_ARGS,
        "`--require-control-auth` needs TLS (operator certificates and tokens must not travel in plaintext): remove `--insecure` and pass `--ssl-certfile`, `--ssl-keyfile` and `--ssl-ca-certfile`.",
      );
    let token: string | undefined;
    if (tokenFile !== undefined) {
      try {
        token = readControlAuthToken(
          tokenFile.replace(/^~(?=\/|$)/, homedir()),
          "`--control-auth-token-file`",
        );
      } catch (error) {
        if (!(error instanceof ControlAuthTokenError)) throw error;
        throw FlowerExit.code(ExitCode.SUPERLINK_INVALID_ARGS, error.message);
      }
    }
    controlAuth = { required: true, token };
  } else {
    if (tokenFile !== undefined)
      throw FlowerExit.code(
        ExitCode.SUPERLINK_INVALID_ARGS,
        "`--control-auth-token-file` has no effect without `--require-control-auth`: add `--require-control-auth` to require operator authentication on the Control API.",
      );
    if (enableSupernodeAuth)
      warnings.push(
        "Control API operator authentication is off: anyone who can reach the Control API and holds the CA certificate can register SuperNode keys and start runs. Pass `--require-control-auth` (flwr-ts) to require an operator certificate or token.",
      );
  }

  const healthServerAddress =
    o["health-server-address"] === undefined
      ? undefined
      : addressOrExit(o["health-server-address"]);
  const metricsAddress =
    o["metrics-address"] === undefined ? undefined : addressOrExit(o["metrics-address"]);
  for (const [flag, address] of [
    ["--health-server-address", healthServerAddress],
    ["--metrics-address", metricsAddress],
  ] as const) {
    if (address === undefined || portOf(address) === 0) continue;
    const taken = [
      fleetAddress,
      controlAddress,
      serverAppIoAddress,
      ...(httpAddress !== undefined ? [httpAddress] : []),
    ].find((a) => portOf(a) === portOf(address));
    if (taken !== undefined)
      throw FlowerExit.code(
        ExitCode.SUPERLINK_INVALID_ARGS,
        `${flag} (${address}) shares its port with another API (${taken}). Choose another port.`,
      );
  }
  if (
    healthServerAddress !== undefined &&
    metricsAddress !== undefined &&
    portOf(healthServerAddress) !== 0 &&
    portOf(healthServerAddress) === portOf(metricsAddress)
  )
    throw FlowerExit.code(
      ExitCode.SUPERLINK_INVALID_ARGS,
      `--health-server-address and --metrics-address cannot share a port (${healthServerAddress}).`,
    );

  return {
    kind: "run",
    config: {
      tls,
      controlAuth,
      enableSupernodeAuth,
      fleetAddress,
      controlAddress,
      serverAppIoAddress,
      httpAddress,
      fleetCorsOrigins,
      database: o.database,
      storageDir: o["storage-dir"] ?? join(homedir(), ".flwr", "superlink", "ffs"),
      isolation: o.isolation,
      simulation: o.simulation,
      verbose: o.verbose,
      logFormat: o["log-format"],
      healthServerAddress,
      metricsAddress,
      runLogMaxBytes: o["run-log-max-bytes"],
      grpcMessageLimits: {
        maxReceiveBytes:
          o["grpc-max-receive-message-length"] ?? FLOWER_MESSAGE_LIMITS.maxReceiveBytes,
        maxSendBytes: o["grpc-max-send-message-length"] ?? FLOWER_MESSAGE_LIMITS.maxSendBytes,
      },
      warnings,
      ...(superExecAuthSecret ? { superExecAuthSecret } : {}),
    },
  };
}
