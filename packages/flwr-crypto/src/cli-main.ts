/**
 * The `flwr-ts` command line: `gen-certs` and `gen-keys`, the TypeScript
 * counterparts of the Flower example's `generate_cert.sh` and
 * `generate_auth_keys.sh`.
 */
import { parseArgs } from "node:util";
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
}

/** `flwr-ts gen-certs --help`. */
const GEN_CERTS_USAGE = `  flwr-ts gen-certs [--out DIR] [--host H]... [--key-type ec-p384|rsa-4096] [--days N] [--force]
      Write a development CA and a SuperLink certificate: DIR/ca.crt, ca.key, server.pem, server.key.
      --out DIR        output directory (default: certificates)
      --host H         host name or IP for the certificate, repeatable
                       (default: ${DEFAULT_CERT_HOSTS.join(", ")})
      --key-type T     ec-p384 (default) or rsa-4096
      --days N         validity in days (default: 365)
      --force          overwrite existing files
  flwr-ts gen-certs --operator NAME [--out DIR] [--days N] [--force]
      Write an operator client certificate signed by DIR/ca.crt + DIR/ca.key (from gen-certs):
      DIR/operator-NAME.pem and operator-NAME.key, subject CN=NAME, for a SuperLink started with
      --require-control-auth (federation keys "operator-certificate" and "operator-key").`;

/** `flwr-ts gen-keys --help`. */
const GEN_KEYS_USAGE = `  flwr-ts gen-keys [N] [--out DIR] [--prefix NAME] [--force]
      Write N SuperNode key pairs (ECDSA P-384, OpenSSH format): DIR/NAME_i and DIR/NAME_i.pub.
      N                number of key pairs (default: 2)
      --out DIR        output directory (default: keys)
      --prefix NAME    file name prefix (default: client_credentials)
      --force          overwrite existing files`;

/** Usage text of `flwr-ts`. */
export const USAGE = `Usage:
${GEN_CERTS_USAGE}

${GEN_KEYS_USAGE}

  flwr-ts help       Show this help (and flwr-ts <command> --help for one command).`;

const COMMANDS = ["gen-certs", "gen-keys", "help"] as const;

/** The command `name` was probably meant to be (one edit away, or a prefix), if any. */
function didYouMean(name: string): string | undefined {
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let prev = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const cur = row[j]!;
        row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
        prev = cur;
      }
    }
    return row[b.length]!;
  };
  return COMMANDS.find((c) => distance(name, c) <= 2 || (name.length >= 4 && c.startsWith(name)));
}

class UsageError extends Error {}

/** True when `args` asks for help (`-h`/`--help` before any `--`). */
function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

function parsePositiveInt(text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new UsageError(`${what} must be a positive integer, got "${text}"`);
  return Number(text);
}

async function genCerts(args: string[], io: CliIo): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      out: { type: "string", default: "certificates" },
      host: { type: "string", multiple: true },
      "key-type": { type: "string", default: "ec-p384" },
      days: { type: "string", default: "365" },
      force: { type: "boolean", default: false },
      operator: { type: "string" },
    },
  });
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
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      out: { type: "string", default: "keys" },
      prefix: { type: "string", default: "client_credentials" },
      force: { type: "boolean", default: false },
    },
  });
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
 * Runs the `flwr-ts` CLI.
 * @param argv - arguments after the program name.
 * @param io - output sinks; default stdout/stderr.
 * @returns the exit code: 0 success, 1 failure (e.g. files exist), 2 usage error.
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo = { out: (l) => console.log(l), err: (l) => console.error(l) },
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "gen-certs":
        if (wantsHelp(rest)) {
          io.out(`Usage:\n${GEN_CERTS_USAGE}`);
          return 0;
        }
        await genCerts(rest, io);
        return 0;
      case "gen-keys":
        if (wantsHelp(rest)) {
          io.out(`Usage:\n${GEN_KEYS_USAGE}`);
          return 0;
        }
        genKeys(rest, io);
        return 0;
      case "help":
      case "--help":
      case "-h":
        io.out(USAGE);
        return 0;
      case undefined:
        throw new UsageError("missing command");
      default: {
        const guess = didYouMean(command);
        throw new UsageError(
          `unknown command "${command}"${guess ? `; did you mean "${guess}"?` : ""}`,
        );
      }
    }
  } catch (err) {
    if (
      err instanceof UsageError ||
      (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
    ) {
      const known = COMMANDS.find((c) => c === command && c !== "help");
      // node:util's parse errors span lines and add advice about `--`: one line, the point first.
      const message = (err as Error).message
        .replace(/^(Unknown option '[^']*')\. .*$/s, "$1")
        .split("\n")
        .join(" ");
      io.err(`flwr-ts: ${message}`);
      io.err(`Run 'flwr-ts ${known ? `${known} ` : ""}--help' for usage.`);
      return 2;
    }
    if (err instanceof CryptoError) {
      io.err(`flwr-ts: ${err.message}`);
      if (err.code !== "invalid-argument") return 1;
      io.err(`Run 'flwr-ts ${command} --help' for usage.`);
      return 2;
    }
    io.err(`flwr-ts: ${(err as Error).message ?? String(err)}`);
    return 1;
  }
}
