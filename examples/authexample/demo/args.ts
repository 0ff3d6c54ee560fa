/** Command-line options of `pnpm demo`. */
import { parseArgs } from "node:util";

/** Usage text. */
export const DEMO_USAGE = `Usage: pnpm demo [options]

Runs the Flower authentication example end to end with flwr-ts: TLS certificates, SuperNode
keys, CIFAR-10 partitions, a SuperLink with TLS and SuperNode authentication, registration of
both SuperNodes, two SuperNodes, and \`flwr run . my-federation --stream\`; then writes a chart
of the per-round loss and accuracy. Everything happens in examples/authexample.

Options:
  --rounds <n>       server rounds (default: the app's num-server-rounds, 3)
  --synthetic        use the synthetic CIFAR-10 stand-in (no download)
  --samples <n>      images in the synthetic stand-in (default: 10000; implies --synthetic)
  --local-epochs <n> local epochs per round (default: the app's local-epochs, 1)
  --learning-rate <x> SGD learning rate (default: 0.01; the app's own default is the seed's
                     0.1, which with momentum 0.9 often diverges to NaN on this small CNN)
  --datasets <dir>   where the partitions are, relative to examples/authexample
                     (default: datasets, the seed's path)
  --base-port <p>    ports p..p+5 for ServerAppIo, Fleet, Control, the two ClientAppIo and HTTP
                     APIs (default: 9091, the seed's ports)
  --timeout <s>      give up when the run takes longer (default: 3600)
  --keep             keep the demo state (.demo/: SuperLink database, FABs, logs)
  -h, --help         show this help
`;

/** Parsed options. */
export interface DemoOptions {
  /** Server rounds, or undefined for the app's default. */
  rounds: number | undefined;
  /** Force the synthetic dataset. */
  synthetic: boolean;
  /** Images in the synthetic stand-in. */
  samples: number;
  /** Local epochs, or undefined for the app's default. */
  localEpochs: number | undefined;
  /** SGD learning rate passed as a run-config override. */
  learningRate: number;
  /** Directory of the partitions, relative to the app directory. */
  datasets: string;
  /** First of five consecutive ports. */
  basePort: number;
  /** Run timeout in seconds. */
  timeoutSeconds: number;
  /** Keep `.demo/`. */
  keep: boolean;
  /** Show the help. */
  help: boolean;
}

/** A bad command line. */
export class DemoUsageError extends Error {
  /** @param message - what is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "DemoUsageError";
  }
}

function int(
  name: string,
  value: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    throw new DemoUsageError(
      `--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

function datasetsDir(value: string | undefined): string {
  if (value === undefined) return "datasets";
  const v = value.replace(/\/+$/, "");
  if (v === "" || v.startsWith("/") || v.split("/").includes("..") || /["'\s\\]/.test(v)) {
    throw new DemoUsageError(
      `--datasets must be a plain relative path inside examples/authexample, got ${JSON.stringify(value)}`,
    );
  }
  return v;
}

function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0 || n > 10) {
    throw new DemoUsageError(`--${name} must be a number in (0, 10], got ${JSON.stringify(value)}`);
  }
  return n;
}

/**
 * Parses the demo's arguments.
 * @throws DemoUsageError for unknown options or bad values.
 */
export function parseDemoArgs(argv: readonly string[]): DemoOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv].filter((a) => a !== "--"),
      strict: true,
      allowPositionals: false,
      options: {
        rounds: { type: "string" },
        synthetic: { type: "boolean" },
        samples: { type: "string" },
        "local-epochs": { type: "string" },
        "learning-rate": { type: "string" },
        "base-port": { type: "string" },
        datasets: { type: "string" },
        timeout: { type: "string" },
        keep: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (error) {
    throw new DemoUsageError((error as Error).message.split("\n")[0] ?? "bad arguments");
  }
  const samples = int("samples", values["samples"] as string | undefined, 50, 1_000_000);
  return {
    rounds: int("rounds", values["rounds"] as string | undefined, 1, 1000),
    synthetic: values["synthetic"] === true || samples !== undefined,
    samples: samples ?? 10_000,
    localEpochs: int("local-epochs", values["local-epochs"] as string | undefined, 1, 100),
    learningRate: positive("learning-rate", values["learning-rate"] as string | undefined) ?? 0.01,
    datasets: datasetsDir(values["datasets"] as string | undefined),
    basePort: int("base-port", values["base-port"] as string | undefined, 1024, 65530) ?? 9091,
    timeoutSeconds: int("timeout", values["timeout"] as string | undefined, 10, 86_400) ?? 3600,
    keep: values["keep"] === true,
    help: values["help"] === true,
  };
}
