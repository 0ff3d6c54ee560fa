/**
 * `flower-supernode` arguments: Flower's flags, defaults and conflicts, validated with zod.
 * Pure (no file access): the bin loads files named here.
 *
 * Flower 1.29's flags and 1.42's are both accepted. The Fleet API's wire is chosen as follows
 * (first rule that applies):
 *
 * 1. `--fleet-api-type grpc-rere|http` (`--grpc-rere` is 1.29's name of the first);
 * 2. a scheme on `--superlink`: `grpc://host:port` → gRPC; `https://host:port` → HTTP over TLS;
 *    `http://host:port` → plain HTTP, which must come with `--insecure` (no silent plaintext);
 * 3. the port: 8000 (Flower 1.40+'s SuperLink port) → HTTP; any other, including 1.29's 9092
 *    and the default, → gRPC.
 *
 * A flag and a scheme that disagree are a usage error. A wrong guess is not retried: a SuperLink
 * that speaks the other wire is detected on the first call (`wire/wire-probe.ts`) and the
 * SuperNode stops with a message naming the `--fleet-api-type` to use. The default `--superlink`
 * stays 1.29's `0.0.0.0:9092` (gRPC); against a 1.42 SuperLink pass `--superlink
 * 127.0.0.1:8000` (or its `host:port` with `--fleet-api-type http`).
 *
 * 1.42's own Runtime HTTP API flags (`--host`, `--port`, `--ssl-certfile`, `--ssl-keyfile`,
 * `--ssl-ca-certfile`, and the deprecated `--appio-ssl-*`): when any is given, the SuperNode
 * serves that API (`supernode/runtime/`) beside 1.29's ClientAppIo gRPC API on
 * `--clientappio-api-address`, so a 1.42 `flower-superexec` can serve its ClientApp tasks;
 * `--superexec-auth-secret-file` makes its AcquireTask need 1.42's SuperExec signature. 1.42's
 * `--trusted-entities` and `--allow-runtime-dependency-installation` are accepted and ignored,
 * each with a warning; Flower's `--health-server-address` starts a plaintext gRPC health server.
 * flwr-ts adds `--log-format text|json` and the gRPC message-size flags of flower-superlink.
 */
import {
  ConfigArgsError,
  LOG_FORMATS,
  type LogFormat,
  parseConfigArgs,
  type UserConfig,
} from "@flwr-ts/core";
import {
  type CliSpec,
  CliUsageError,
  formatUsageError,
  type ParsedCli,
  parseCli,
  renderHelp,
} from "@flwr-ts/core/cli";
import { z } from "zod";
import {
  FLOWER_MESSAGE_LIMITS,
  type MessageLimits,
  messageLengthFlag,
} from "../grpc/message-limits.js";
import { formatAddress, parseAddress } from "./address.js";
import { CliError, UsageError } from "./cli-error.js";
import { ExitCode } from "./exit-codes.js";

/** Flower 1.29's default Fleet API address for SuperNodes (gRPC). */
export const DEFAULT_SUPERLINK = "0.0.0.0:9092";
/**
 * Default ClientAppIo API address: loopback (Flower's is `0.0.0.0:9094`). ClientAppIo is
 * plaintext and serves a run's messages to whoever holds its token, so it is not exposed to the
 * network unless the operator passes an address (e.g. `0.0.0.0:9094` for a `flwr-clientapp` in
 * another container with `--isolation process`).
 */
export const DEFAULT_CLIENTAPPIO = "127.0.0.1:9094";
/** Flower 1.40+'s SuperLink HTTP port: an address with it and no scheme or flag means HTTP. */
export const HTTP_FLEET_PORT = 8000;
/** Flower 1.42's default host and port of the SuperNode's Runtime HTTP API. */
export const DEFAULT_RUNTIME_API = { host: "127.0.0.1", port: 9094 } as const;

/** The Fleet API's wire, by `--fleet-api-type`'s names. */
export type FleetApiType = "grpc-rere" | "http";

/** What decided the wire (for the start-up log line). */
export type FleetApiTypeSource = "flag" | "scheme" | "port";

/** Options and help of `flower-supernode` (parsed by commander through `@flwr-ts/core/cli`). */
export const SUPERNODE_SPEC: CliSpec = {
  name: "flower-supernode",
  description: "Start a Flower SuperNode.",
  version: true,
  options: [
    {
      name: "superlink",
      metavar: "ADDRESS",
      help: "SuperLink Fleet API address, host:port, optionally with a scheme: grpc://, https:// or http://.",
      default: DEFAULT_SUPERLINK,
    },
    {
      name: "fleet-api-type",
      metavar: "TYPE",
      choices: ["grpc-rere", "http"],
      help: `Fleet API wire: grpc-rere (Flower <= 1.39, flwr-ts's Fleet port) or http (Flower 1.40+). Default: from the --superlink scheme, else http for port ${HTTP_FLEET_PORT} and grpc-rere for any other port. A wrong choice stops the SuperNode with a message naming the right one.`,
    },
    { name: "grpc-rere", help: "Flower 1.29's spelling of --fleet-api-type grpc-rere." },
    {
      name: "root-certificates",
      metavar: "ROOT_CERT",
      help: "PEM file of the CA that signed the SuperLink's certificate.",
    },
    {
      name: "insecure",
      help: "Connect without TLS (not with --root-certificates or a key; required for an http:// address).",
    },
    {
      name: "auth-supernode-private-key",
      metavar: "KEY",
      help: "SuperNode private key (OpenSSH format) for authentication; register its public key first: flwr supernode register.",
    },
    { name: "auth-supernode-public-key", metavar: "KEY", help: "Deprecated.", hidden: true },
    {
      name: "node-config",
      metavar: "CONFIG",
      help: "Node config as key=value pairs with TOML values, e.g. 'dataset-path=\"datasets/part_1\" partition-id=0'.",
    },
    {
      name: "clientappio-api-address",
      metavar: "ADDR",
      help: "ClientAppIo API address (loopback; Flower's is 0.0.0.0:9094: pass that for a flwr-clientapp on another host with --isolation process).",
      default: DEFAULT_CLIENTAPPIO,
    },
    {
      name: "isolation",
      metavar: "MODE",
      choices: ["subprocess", "process"],
      help: "Where ClientApps run.",
      default: "subprocess",
    },
    {
      name: "max-retries",
      metavar: "N",
      help: "Reconnection attempts before giving up.",
      default: "unlimited",
    },
    {
      name: "max-wait-time",
      metavar: "SECONDS",
      help: "Time to keep reconnecting before giving up.",
      default: "unlimited",
    },
    {
      name: "health-server-address",
      metavar: "ADDR",
      help: "Start a plaintext gRPC health server (grpc.health.v1) there.",
    },
    {
      name: "log-format",
      metavar: "FORMAT",
      choices: ["text", "json"],
      help: "text (Flower's console lines) or json (one JSON object per line: time, level, component, message).",
      default: "text",
    },
    {
      name: "grpc-max-receive-message-length",
      metavar: "BYTES",
      help: "Largest gRPC message received on the Fleet channel and ClientAppIo.",
      default: "2147483647",
    },
    {
      name: "grpc-max-send-message-length",
      metavar: "BYTES",
      help: "Largest gRPC message sent on the Fleet channel and ClientAppIo.",
      default: "2147483647",
    },
    {
      name: "host",
      metavar: "HOST",
      help: "Flower 1.42's SuperNode Runtime HTTP API: its host (the API is served when any of --host, --port, --ssl-* is given).",
      default: DEFAULT_RUNTIME_API.host,
    },
    {
      name: "port",
      metavar: "PORT",
      help: "Runtime HTTP API port.",
      default: String(DEFAULT_RUNTIME_API.port),
    },
    {
      name: "ssl-certfile",
      metavar: "FILE",
      help: "Runtime HTTP API TLS certificate (all three --ssl-* files, or none for plain HTTP).",
    },
    { name: "ssl-keyfile", metavar: "FILE", help: "Runtime HTTP API TLS private key." },
    { name: "ssl-ca-certfile", metavar: "FILE", help: "Runtime HTTP API CA certificate." },
    { name: "appio-ssl-certfile", metavar: "FILE", help: "Deprecated.", hidden: true },
    { name: "appio-ssl-keyfile", metavar: "FILE", help: "Deprecated.", hidden: true },
    { name: "appio-ssl-ca-certfile", metavar: "FILE", help: "Deprecated.", hidden: true },
    {
      name: "superexec-auth-secret-file",
      metavar: "FILE",
      help: "SuperExec shared secret: the Runtime API's AcquireTask needs Flower 1.42's signature.",
    },
    {
      name: "trusted-entities",
      metavar: "FILE",
      help: "Flower 1.42's; accepted and ignored with a warning.",
    },
    {
      name: "allow-runtime-dependency-installation",
      help: "Flower 1.42's; accepted and ignored with a warning.",
    },
  ],
  epilog:
    "With --isolation process, a Flower 1.42 flower-superexec --runtime-api-address HOST:PORT serves the ClientApp tasks of the Runtime HTTP API (served beside ClientAppIo on --clientappio-api-address).",
};

/** `flower-supernode --help` (uncoloured, 80 columns). */
export const SUPERNODE_USAGE = renderHelp(SUPERNODE_SPEC, { color: false, width: 80 });

/** A validated `flower-supernode` configuration. */
export interface SuperNodeArgs {
  /** Fleet API address, normalized `host:port` / `[v6]:port` (any scheme removed). */
  readonly superlink: string;
  /** The Fleet API's wire. */
  readonly fleetApiType: FleetApiType;
  /** Which rule chose {@link fleetApiType}. */
  readonly fleetApiTypeSource: FleetApiTypeSource;
  /**
   * Flower 1.42's Runtime HTTP API settings, when any of its flags was given (then it is
   * served; see the module note).
   */
  readonly runtimeApi:
    | {
        readonly host: string;
        readonly port: number;
        readonly tls: { certFile: string; keyFile: string; caCertFile: string } | undefined;
      }
    | undefined;
  /** `--superexec-auth-secret-file`, when given (used by the Runtime API only). */
  readonly superExecAuthSecretFile: string | undefined;
  /** CA certificate file, when given. */
  readonly rootCertificates: string | undefined;
  /** Plaintext connection. */
  readonly insecure: boolean;
  /** Private key file, when given. */
  readonly privateKeyFile: string | undefined;
  /** Parsed `--node-config`. */
  readonly nodeConfig: UserConfig;
  /** ClientAppIo API address (the server comes with message execution). */
  readonly clientappioApiAddress: string;
  /** Isolation mode. */
  readonly isolation: "subprocess" | "process";
  /** Retries after a connection error; undefined = unlimited. */
  readonly maxRetries: number | undefined;
  /** Reconnection time budget in ms; undefined = unlimited. */
  readonly maxWaitTimeMs: number | undefined;
  /** `--health-server-address` (normalized), or undefined. */
  readonly healthServerAddress: string | undefined;
  /** `--log-format`. */
  readonly logFormat: LogFormat;
  /** gRPC message-size limits of the Fleet channel and ClientAppIo. */
  readonly messageLimits: MessageLimits;
  /** Warnings to log (deprecated flags). */
  readonly warnings: readonly string[];
}

/** What the command line asks for. */
export type SuperNodeCommand =
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | { readonly kind: "run"; readonly args: SuperNodeArgs };

const address = (flag: string) =>
  z.string().transform((text, ctx) => {
    const parsed = parseAddress(text);
    if (!parsed) {
      ctx.addIssue({ code: "custom", message: `${flag} address (${text}) cannot be parsed.` });
      return z.NEVER;
    }
    return formatAddress(parsed);
  });

const schema = z.object({
  "clientappio-api-address": address("ClientAppIo API"),
  isolation: z.enum(["subprocess", "process"], {
    error: (i) => `--isolation must be 'subprocess' or 'process', got '${String(i.input)}'`,
  }),
  "max-retries": z
    .string()
    .regex(/^\d+$/, { error: "--max-retries must be a non-negative integer" })
    .transform(Number)
    .optional(),
  "max-wait-time": z
    .string()
    .refine((s) => s.trim() !== "" && Number.isFinite(Number(s)) && Number(s) >= 0, {
      error: "--max-wait-time must be a non-negative number of seconds",
    })
    .transform((s) => Number(s) * 1000)
    .optional(),
  "health-server-address": address("Health server").optional(),
  "log-format": z
    .enum(LOG_FORMATS as [LogFormat, ...LogFormat[]], {
      error: (i) => `--log-format must be 'text' or 'json', got '${String(i.input)}'`,
    })
    .default("text"),
  "grpc-max-receive-message-length": messageLengthFlag.optional(),
  "grpc-max-send-message-length": messageLengthFlag.optional(),
});

/**
 * Parses and validates `flower-supernode` arguments.
 * @throws UsageError for unknown flags or bad values; CliError (status 1) for Flower's
 *   conflicts (`--insecure` with `--root-certificates`; a key with `--insecure`: exit code 303).
 */
export function parseSuperNodeArgs(argv: readonly string[]): SuperNodeCommand {
  let cli: ParsedCli;
  try {
    cli = parseCli(SUPERNODE_SPEC, argv);
  } catch (err) {
    if (err instanceof CliUsageError) throw new UsageError(formatUsageError(err));
    throw err;
  }
  const values: Record<string, string | boolean | undefined> = {
    superlink: DEFAULT_SUPERLINK,
    insecure: false,
    "grpc-rere": false,
    "clientappio-api-address": DEFAULT_CLIENTAPPIO,
    isolation: "subprocess",
    "allow-runtime-dependency-installation": false,
    ...(cli.values as Record<string, string | boolean>),
    help: cli.help,
    version: cli.version,
  };
  if (values["help"]) return { kind: "help" };
  if (values["version"]) return { kind: "version" };

  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.path[0] === "clientappio-api-address" || issue.path[0] === "health-server-address") {
      throw new CliError(issue.message, { flowerCode: ExitCode.COMMON_ADDRESS_INVALID });
    }
    throw new UsageError(
      issue.message.startsWith("--")
        ? issue.message
        : `--${String(issue.path[0])}: ${issue.message}`,
    );
  }
  const v = parsed.data;
  const insecure = values["insecure"] === true;
  const fleet = chooseFleetApi(
    values["superlink"] as string,
    values["fleet-api-type"] as string | undefined,
    values["grpc-rere"] === true,
    insecure,
  );
  const rootCertificates = values["root-certificates"] as string | undefined;
  const privateKeyFile = values["auth-supernode-private-key"] as string | undefined;
  if (insecure && rootCertificates !== undefined) {
    throw new CliError(
      "Conflicting options: The '--insecure' flag disables HTTPS, but '--root-certificates' was " +
        "also specified. Please remove the '--root-certificates' option when running in insecure " +
        "mode, or omit '--insecure' to use HTTPS.",
    );
  }
  if (insecure && privateKeyFile !== undefined) {
    throw new CliError(
      "Insecure connection is enabled, but the SuperNode's private key is provided for " +
        "authentication. SuperNode authentication requires a secure TLS connection with the " +
        "SuperLink. Please enable TLS by providing the certificate via `--root-certificates`.",
      { flowerCode: ExitCode.SUPERNODE_STARTED_WITHOUT_TLS_BUT_NODE_AUTH_ENABLED },
    );
  }
  let nodeConfig: UserConfig;
  try {
    const text = values["node-config"] as string | undefined;
    nodeConfig = parseConfigArgs(text === undefined ? [] : [text]);
  } catch (err) {
    if (err instanceof ConfigArgsError) throw new UsageError(`--node-config: ${err.message}`);
    throw err;
  }
  const warnings: string[] = [];
  const runtimeApi = runtimeApiArgs(values, warnings);
  const superExecAuthSecretFile = values["superexec-auth-secret-file"] as string | undefined;
  if (superExecAuthSecretFile !== undefined && runtimeApi === undefined)
    warnings.push(
      "`--superexec-auth-secret-file` is used only by the Runtime HTTP API, which is not served " +
        "(give --host/--port to serve it).",
    );
  for (const flag of ["trusted-entities"] as const) {
    if (values[flag] !== undefined)
      warnings.push(`\`--${flag}\` (Flower 1.42) is not supported by flwr-ts yet and is ignored.`);
  }
  if (values["allow-runtime-dependency-installation"] === true)
    warnings.push(
      "`--allow-runtime-dependency-installation` is ignored: flwr-ts installs no app dependencies at run time.",
    );
  if (values["auth-supernode-public-key"] !== undefined) {
    warnings.push(
      "The `--auth-supernode-public-key` flag is deprecated and ignored: the public key is " +
        "derived from the private key provided by `--auth-supernode-private-key`.",
    );
  }
  return {
    kind: "run",
    args: {
      superlink: fleet.address,
      fleetApiType: fleet.type,
      fleetApiTypeSource: fleet.source,
      runtimeApi,
      superExecAuthSecretFile,
      rootCertificates,
      insecure,
      privateKeyFile,
      nodeConfig,
      clientappioApiAddress: v["clientappio-api-address"],
      isolation: v.isolation,
      maxRetries: v["max-retries"],
      maxWaitTimeMs: v["max-wait-time"],
      healthServerAddress: v["health-server-address"],
      logFormat: v["log-format"],
      messageLimits: {
        maxReceiveBytes:
          v["grpc-max-receive-message-length"] ?? FLOWER_MESSAGE_LIMITS.maxReceiveBytes,
        maxSendBytes: v["grpc-max-send-message-length"] ?? FLOWER_MESSAGE_LIMITS.maxSendBytes,
      },
      warnings,
    },
  };
}

const SCHEMES: Readonly<Record<string, FleetApiType>> = {
  "grpc:": "grpc-rere",
  "http:": "http",
  "https:": "http",
};

/**
 * The Fleet API's address and wire from `--superlink`, `--fleet-api-type` and `--insecure` (the
 * rules of the module note).
 * @throws UsageError for an unknown type or scheme, or a flag and scheme that disagree; CliError
 *   (Flower's exit code 600) for an address that cannot be parsed; CliError for `http://`
 *   without `--insecure` or `https://` with it.
 */
export function chooseFleetApi(
  superlink: string,
  typeFlag: string | undefined,
  grpcRere: boolean,
  insecure: boolean,
): { address: string; type: FleetApiType; source: FleetApiTypeSource } {
  let flagType: FleetApiType | undefined;
  if (typeFlag !== undefined) {
    if (typeFlag === "grpc-adapter" || typeFlag === "rest")
      throw new UsageError(
        `--fleet-api-type ${typeFlag} is not supported; use grpc-rere (gRPC) or http (Flower 1.40+)`,
      );
    if (typeFlag !== "grpc-rere" && typeFlag !== "http")
      throw new UsageError(`--fleet-api-type must be 'grpc-rere' or 'http', got '${typeFlag}'`);
    flagType = typeFlag;
  }
  if (grpcRere) {
    if (flagType === "http")
      throw new UsageError("--grpc-rere conflicts with --fleet-api-type http");
    flagType = "grpc-rere";
  }
  let text = superlink;
  let schemeType: FleetApiType | undefined;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(superlink);
  if (scheme) {
    const name = `${scheme[1]!.toLowerCase()}:`;
    schemeType = SCHEMES[name];
    if (schemeType === undefined)
      throw new UsageError(
        `--superlink ${superlink}: unknown scheme '${scheme[1]}://' (use grpc://, https:// or http://, or host:port)`,
      );
    text = superlink.slice(scheme[0].length).replace(/\/+$/, "");
    if (name === "http:" && !insecure)
      throw new CliError(
        `--superlink ${superlink} is plain HTTP: add --insecure to connect without TLS, or use https://`,
      );
    if (name === "https:" && insecure)
      throw new CliError(
        `--superlink ${superlink} is HTTPS, but --insecure disables TLS: use http:// or drop --insecure`,
      );
  }
  const parsed = parseAddress(text);
  if (!parsed)
    throw new CliError(`SuperLink address (${superlink}) cannot be parsed.`, {
      flowerCode: ExitCode.COMMON_ADDRESS_INVALID,
    });
  const address = formatAddress(parsed);
  if (flagType && schemeType && flagType !== schemeType)
    throw new UsageError(
      `--fleet-api-type ${flagType} conflicts with the ${scheme![1]}:// scheme of --superlink ${superlink}`,
    );
  if (flagType) return { address, type: flagType, source: "flag" };
  if (schemeType) return { address, type: schemeType, source: "scheme" };
  return {
    address,
    type: parsed.port === HTTP_FLEET_PORT ? "http" : "grpc-rere",
    source: "port",
  };
}

/** Flower 1.42's Runtime API flags (checked as 1.42 checks them; deprecated spellings warn). */
function runtimeApiArgs(
  values: Record<string, string | boolean | undefined>,
  warnings: string[],
): SuperNodeArgs["runtimeApi"] {
  const str = (k: string) => values[k] as string | undefined;
  for (const flag of ["certfile", "keyfile", "ca-certfile"]) {
    if (str(`appio-ssl-${flag}`) !== undefined) {
      warnings.push(
        `The \`--appio-ssl-${flag}\` flag is deprecated; use \`--ssl-${flag}\` instead.`,
      );
    }
  }
  const certFile = str("ssl-certfile") ?? str("appio-ssl-certfile");
  const keyFile = str("ssl-keyfile") ?? str("appio-ssl-keyfile");
  const caCertFile = str("ssl-ca-certfile") ?? str("appio-ssl-ca-certfile");
  const given = [str("host"), str("port"), certFile, keyFile, caCertFile].some(
    (x) => x !== undefined,
  );
  if (!given) return undefined;
  let port: number = DEFAULT_RUNTIME_API.port;
  const portText = str("port");
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535)
      throw new UsageError(`--port: value must be between 1 and 65535, got '${portText}'`);
    port = Number(portText);
  }
  const tlsParts = [certFile, keyFile, caCertFile];
  if (tlsParts.some((x) => x !== undefined) && tlsParts.some((x) => x === undefined))
    throw new CliError(
      "The Runtime API needs all three of --ssl-certfile, --ssl-keyfile and --ssl-ca-certfile.",
      { flowerCode: ExitCode.COMMON_TLS_SERVER_CERTIFICATES_INVALID },
    );
  const host = str("host") ?? DEFAULT_RUNTIME_API.host;
  return {
    host,
    port,
    tls: certFile && keyFile && caCertFile ? { certFile, keyFile, caCertFile } : undefined,
  };
}
