/**
 * The `flwr-ts` command line: `gen-certs` and `gen-keys`, the TypeScript
 * counterparts of the Flower example's `generate_cert.sh` and
 * `generate_auth_keys.sh`.
 */
import { type CliSpec, CliUsageError, colorEnabled, parseCli, renderHelp } from "@flwr-ts/core/cli";
import { generateAuthKeys } from "./auth-keys.js";
import {
  type CertificateKeyType,
  DEFAULT_CERT_HOSTS,
  generateCertificates,
} from "./certificates.js";
import { CryptoError } from "./errors.js";
import { generateOperatorCertificate } from "./operator-certificates.js";

/** Where the CLI writes its output (injectable for tests). */
export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Colour the help (default: from stdout, `NO_COLOR`, `FORCE_COLOR`). */
  readonly color?: boolean;
  /** Width to fit the help to (default: the terminal's, else 80). */
  readonly columns?: number;
}

/** `flwr-ts gen-certs`. */
const GEN_CERTS_SPEC: CliSpec = {
  name: "flwr-ts gen-certs",
  description:
    'Write a development CA and a SuperLink certificate: DIR/ca.crt, ca.key, server.pem, server.key.\n\nWith --operator NAME: write an operator client certificate signed by DIR/ca.crt + DIR/ca.key (from gen-certs): DIR/operator-NAME.pem and operator-NAME.key, subject CN=NAME, for a SuperLink started with --require-control-auth (federation keys "operator-certificate" and "operator-key").',
  usage: [
    "flwr-ts gen-certs [--out DIR] [--host H]... [--key-type T] [--days N] [--force]",
    "flwr-ts gen-certs --operator NAME [--out DIR] [--days N] [--force]",
  ],
  options: [
    { name: "out", metavar: "DIR", help: "Output directory.", default: "certificates" },
    {
      name: "host",
      metavar: "H",
      repeatable: true,
      help: "Host name or IP for the certificate, repeatable.",
      default: DEFAULT_CERT_HOSTS.join(", "),
    },
    {
      name: "key-type",
      metavar: "T",
      choices: ["ec-p384", "rsa-4096"],
      help: "Key type.",
      default: "ec-p384",
    },
    { name: "days", metavar: "N", help: "Validity in days.", default: "365" },
    { name: "operator", metavar: "NAME", help: "Write an operator certificate instead." },
    { name: "force", help: "Overwrite existing files." },
  ],
};

/** `flwr-ts gen-keys`. */
const GEN_KEYS_SPEC: CliSpec = {
  name: "flwr-ts gen-keys",
  description:
    "Write N SuperNode key pairs (ECDSA P-384, OpenSSH format): DIR/NAME_i and DIR/NAME_i.pub.",
  usage: ["flwr-ts gen-keys [N] [--out DIR] [--prefix NAME] [--force]"],
  arguments: [{ name: "n", help: "Number of key pairs.", default: "2" }],
  options: [
    { name: "out", metavar: "DIR", help: "Output directory.", default: "keys" },
    { name: "prefix", metavar: "NAME", help: "File name prefix.", default: "client_credentials" },
    { name: "force", help: "Overwrite existing files." },
  ],
};

/** `flwr-ts`. */
const FLWR_TS_SPEC: CliSpec = {
  name: "flwr-ts",
  description:
    "flwr-ts tools: TLS certificates and SuperNode keys for a Flower deployment (the Flower example's generate_cert.sh and generate_auth_keys.sh).",
  commands: [
    {
      name: "gen-certs",
      summary: "Write a development CA, a SuperLink certificate, or an operator certificate",
    },
    { name: "gen-keys", summary: "Write SuperNode key pairs (ECDSA P-384, OpenSSH)" },
    { name: "help", summary: "Show this help" },
  ],
  epilog: "Run 'flwr-ts COMMAND --help' for a command's options.",
};

const SPECS: Record<string, CliSpec> = { "gen-certs": GEN_CERTS_SPEC, "gen-keys": GEN_KEYS_SPEC };

/** Help text of `flwr-ts` (`command` for one command's). */
export function usageText(command?: "gen-certs" | "gen-keys", io: Partial<CliIo> = {}): string {
  const spec = command === undefined ? FLWR_TS_SPEC : SPECS[command]!;
  return renderHelp(spec, {
    color: io.color ?? colorEnabled(process.stdout),
    ...(io.columns === undefined ? {} : { width: io.columns }),
  });
}

/** Usage text of `flwr-ts` (uncoloured, 80 columns). */
export const USAGE = renderHelp(FLWR_TS_SPEC, { color: false, width: 80 });

class UsageError extends Error {}

function parsePositiveInt(text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new UsageError(`${what} must be a positive integer, got "${text}"`);
  return Number(text);
}

async function genCerts(args: string[], io: CliIo): Promise<void> {
  const parsed = parseCli({ ...GEN_CERTS_SPEC, arguments: [] }, args);
  const positionals = parsed.positionals;
  const values = {
    out: (parsed.values["out"] as string | undefined) ?? "certificates",
    host: parsed.values["host"] as string[] | undefined,
    "key-type": (parsed.values["key-type"] as string | undefined) ?? "ec-p384",
    days: (parsed.values["days"] as string | undefined) ?? "365",
    force: parsed.values["force"] === true,
    operator: parsed.values["operator"] as string | undefined,
  };
  if (positionals.length > 0)
    throw new UsageError(`gen-certs takes no positional arguments, got "${positionals[0]}"`);
  if (values.operator !== undefined) {
    if (values.host !== undefined || args.some((a) => a.startsWith("--key-type")))
      throw new UsageError(
        "--operator takes no --host or --key-type (the key type follows the CA's)",
      );
    const operator = await generateOperatorCertificate({
      outDir: values.out,
      name: values.operator,
      validityDays: parsePositiveInt(values.days, "--days"),
      overwrite: values.force,
    });
    io.out(`Wrote the certificate of operator '${values.operator}':`);
    io.out(`  ${operator.paths.cert}  operator certificate ("operator-certificate")`);
    io.out(`  ${operator.paths.key}  operator private key ("operator-key", keep it secret)`);
    return;
  }
  const keyType = values["key-type"];
  if (keyType !== "ec-p384" && keyType !== "rsa-4096")
    throw new UsageError(`--key-type must be ec-p384 or rsa-4096, got "${keyType}"`);
  const result = await generateCertificates({
    outDir: values.out,
    hosts: values.host ?? DEFAULT_CERT_HOSTS,
    keyType: keyType as CertificateKeyType,
    validityDays: parsePositiveInt(values.days, "--days"),
    overwrite: values.force,
  });
  const hosts = (values.host ?? DEFAULT_CERT_HOSTS).join(", ");
  io.out(`Wrote ${keyType} certificates for ${hosts}:`);
  io.out(`  ${result.paths.caCert}      CA certificate (--ssl-ca-certfile, --root-certificates)`);
  io.out(`  ${result.paths.caKey}      CA private key (keep it secret)`);
  io.out(`  ${result.paths.serverCert}  server certificate (--ssl-certfile)`);
  io.out(`  ${result.paths.serverKey}  server private key (--ssl-keyfile)`);
}

function genKeys(args: string[], io: CliIo): void {
  const parsed = parseCli(GEN_KEYS_SPEC, args);
  const positionals = parsed.positionals;
  const values = {
    out: (parsed.values["out"] as string | undefined) ?? "keys",
    prefix: (parsed.values["prefix"] as string | undefined) ?? "client_credentials",
    force: parsed.values["force"] === true,
  };
  if (positionals.length > 1)
    throw new UsageError(`gen-keys takes at most one count, got ${positionals.join(" ")}`);
  const count = positionals[0] === undefined ? 2 : parsePositiveInt(positionals[0], "N");
  const keys = generateAuthKeys({
    outDir: values.out,
    count,
    prefix: values.prefix,
    overwrite: values.force,
  });
  io.out(`Wrote ${keys.length} SuperNode key pair${keys.length === 1 ? "" : "s"} (ECDSA P-384):`);
  for (const k of keys) io.out(`  ${k.privateKeyPath}  ${k.publicKeyPath}`);
  io.out(
    `Register each with \`flwr supernode register ${keys[0]!.publicKeyPath}\` and start the SuperNode ` +
      `with \`--auth-supernode-private-key ${keys[0]!.privateKeyPath}\`.`,
  );
}

/**
 * Runs the `flwr-ts` CLI (parsed with commander through `@flwr-ts/core/cli`).
 * @param argv - arguments after the program name.
 * @param io - output sinks; default stdout/stderr.
 * @returns the exit code: 0 success, 1 failure (e.g. files exist), 2 usage error (one line on
 * stderr: the problem and the pointer to `--help`).
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo = { out: (l) => console.log(l), err: (l) => console.error(l) },
): Promise<number> {
  let command: string | undefined;
  const help = (name?: "gen-certs" | "gen-keys") => io.out(usageText(name, io).replace(/\n$/, ""));
  try {
    if (argv[0] === undefined) throw new UsageError("missing command");
    const top = parseCli(FLWR_TS_SPEC, argv);
    command = top.command;
    if (top.help || command === "help" || command === undefined) {
      help();
      return 0;
    }
    if (command === "gen-certs" || command === "gen-keys") {
      const rest = top.rest;
      const end = rest.indexOf("--");
      if ((end < 0 ? rest : rest.slice(0, end)).some((a) => a === "--help" || a === "-h")) {
        help(command);
        return 0;
      }
      if (command === "gen-certs") await genCerts(rest, io);
      else genKeys(rest, io);
    }
    return 0;
  } catch (err) {
    const pointer = `Run 'flwr-ts ${command === "gen-certs" || command === "gen-keys" ? `${command} ` : ""}--help' for usage.`;
    if (err instanceof CliUsageError) {
      const hint = err.suggestion === undefined ? "" : `; did you mean "${err.suggestion}"?`;
      const message =
        err.kind === "unknown-command"
          ? `unknown command "${err.subject}"${hint}`
          : err.message.replace(/did you mean '([^']*)'/, 'did you mean "$1"');
      io.err(`flwr-ts: ${message}${message.endsWith("?") ? "" : "."} ${pointer}`);
      return 2;
    }
    if (err instanceof UsageError) {
      io.err(`flwr-ts: ${err.message}. ${pointer}`);
      return 2;
    }
    if (err instanceof CryptoError) {
      if (err.code !== "invalid-argument") {
        io.err(`flwr-ts: ${err.message}`);
        return 1;
      }
      io.err(`flwr-ts: ${err.message.replace(/\.$/, "")}. ${pointer}`);
      return 2;
    }
    io.err(`flwr-ts: ${(err as Error).message ?? String(err)}`);
    return 1;
  }
}
