/**
 * `flower-supernode` arguments: Flower's flags, defaults and conflicts, validated with zod.
 * Pure (no file access): the bin loads files named here.
 */
import { parseArgs } from "node:util";
import { ConfigArgsError, parseConfigArgs, type UserConfig } from "@flwr-ts/core";
import { z } from "zod";
import { formatAddress, parseAddress } from "./address.js";
import { CliError, UsageError } from "./cli-error.js";
import { ExitCode } from "./exit-codes.js";

/** Flower's default Fleet API address for SuperNodes. */
export const DEFAULT_SUPERLINK = "0.0.0.0:9092";
/** Flower's default ClientAppIo API address. */
export const DEFAULT_CLIENTAPPIO = "0.0.0.0:9094";

/** `flower-supernode --help`. */
export const SUPERNODE_USAGE = `Usage: flower-supernode [options]

Start a Flower SuperNode.

Options:
  --superlink ADDRESS              SuperLink Fleet API address (default: ${DEFAULT_SUPERLINK})
  --root-certificates ROOT_CERT    PEM file of the CA that signed the SuperLink's certificate
  --insecure                       Connect without TLS (not with --root-certificates or a key)
  --auth-supernode-private-key KEY SuperNode private key (OpenSSH format) for authentication;
                                   register its public key first: flwr supernode register
  --node-config CONFIG             Node config as key=value pairs with TOML values, e.g.
                                   'dataset-path="datasets/part_1" partition-id=0'
  --clientappio-api-address ADDR   ClientAppIo API address (default: ${DEFAULT_CLIENTAPPIO})
  --isolation MODE                 subprocess (default) or process
  --max-retries N                  Reconnection attempts before giving up (default: unlimited)
  --max-wait-time SECONDS          Time to keep reconnecting before giving up (default: unlimited)
  -V, --version                    Show the version
  -h, --help                       Show this help`;

/** A validated `flower-supernode` configuration. */
export interface SuperNodeArgs {
  /** Fleet API address, normalized `host:port` / `[v6]:port`. */
  readonly superlink: string;
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
  superlink: address("SuperLink"),
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
});

/**
 * Parses and validates `flower-supernode` arguments.
 * @throws UsageError for unknown flags or bad values; CliError (status 1) for Flower's
 *   conflicts (`--insecure` with `--root-certificates`; a key with `--insecure`: exit code 303).
 */
export function parseSuperNodeArgs(argv: readonly string[]): SuperNodeCommand {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      allowPositionals: false,
      strict: true,
      options: {
        superlink: { type: "string", default: DEFAULT_SUPERLINK },
        "root-certificates": { type: "string" },
        insecure: { type: "boolean", default: false },
        "grpc-rere": { type: "boolean", default: false },
        "auth-supernode-private-key": { type: "string" },
        "auth-supernode-public-key": { type: "string" },
        "node-config": { type: "string" },
        "clientappio-api-address": { type: "string", default: DEFAULT_CLIENTAPPIO },
        isolation: { type: "string", default: "subprocess" },
        "max-retries": { type: "string" },
        "max-wait-time": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
        version: { type: "boolean", short: "V", default: false },
      },
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split("\n")[0]} (see flower-supernode --help)`);
  }
  if (values["help"]) return { kind: "help" };
  if (values["version"]) return { kind: "version" };

  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.path[0] === "superlink" || issue.path[0] === "clientappio-api-address") {
      throw new CliError(issue.message, { flowerCode: ExitCode.COMMON_ADDRESS_INVALID });
    }
    throw new UsageError(issue.message);
  }
  const v = parsed.data;
  const insecure = values["insecure"] === true;
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
  if (values["auth-supernode-public-key"] !== undefined) {
    warnings.push(
      "The `--auth-supernode-public-key` flag is deprecated and ignored: the public key is " +
        "derived from the private key provided by `--auth-supernode-private-key`.",
    );
  }
  return {
    kind: "run",
    args: {
      superlink: v.superlink,
      rootCertificates,
      insecure,
      privateKeyFile,
      nodeConfig,
      clientappioApiAddress: v["clientappio-api-address"],
      isolation: v.isolation,
      maxRetries: v["max-retries"],
      maxWaitTimeMs: v["max-wait-time"],
      warnings,
    },
  };
}
