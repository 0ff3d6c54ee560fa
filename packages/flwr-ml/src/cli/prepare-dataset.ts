/**
 * `flwr-ts-prepare-dataset`: the seed's `prepare_dataset.py` for flwr-ts.
 */
import {
  type CliSpec,
  CliUsageError,
  colorEnabled,
  formatUsageError,
  parseCli,
  renderHelp,
} from "@flwr-ts/core/cli";
import { Cifar10Error } from "../cifar10/errors.js";
import { type Cifar10Source, prepareCifar10 } from "../cifar10/prepare.js";

/** Options and help of `flwr-ts-prepare-dataset`. */
export const PREPARE_DATASET_SPEC: CliSpec = {
  name: "flwr-ts-prepare-dataset",
  description:
    "Download CIFAR-10, split its training set into partitions (each 80% train, 20% test, as the Flower example) and save them as OUT/cifar10_part_<i>.",
  options: [
    { name: "out", metavar: "DIR", help: "Output directory.", default: "datasets" },
    { name: "num-partitions", metavar: "N", help: "Number of partitions.", default: "2" },
    {
      name: "from",
      metavar: "ARCHIVE",
      help: "Use a local cifar-10-binary.tar.gz instead of downloading.",
    },
    {
      name: "synthetic",
      help: "Write a synthetic, learnable stand-in (offline use, tests).",
    },
    {
      name: "samples",
      metavar: "N",
      help: "Images in the synthetic stand-in.",
      default: "10000",
    },
    {
      name: "dirichlet",
      metavar: "ALPHA",
      help: "Label-skewed (non-IID) partitions with Dirichlet(alpha).",
    },
    { name: "seed", metavar: "N", help: "Seed of shuffling and splitting.", default: "42" },
    {
      name: "test-fraction",
      metavar: "F",
      help: "Held-out fraction per partition.",
      default: "0.2",
    },
  ],
};

/** Usage text (uncoloured, 80 columns). */
export const PREPARE_DATASET_USAGE = renderHelp(PREPARE_DATASET_SPEC, { color: false, width: 80 });

/** Input/output of {@link runPrepareDataset}, replaceable in tests. */
export interface CliIo {
  /** Normal output. */
  out: (text: string) => void;
  /** Errors and progress. */
  err: (text: string) => void;
  /** Colour the help (default: from stdout, `NO_COLOR`, `FORCE_COLOR`). */
  color?: boolean;
}

const defaultIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

class UsageError extends Error {}

function number(name: string, value: string | undefined, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new UsageError(
      `--${name} must be ${integer ? "an integer" : "a number"}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** Runs the command; returns the exit code (0 ok, 1 failure, 2 usage error). */
export async function runPrepareDataset(argv: string[], io: CliIo = defaultIo): Promise<number> {
  try {
    const parsed = parseCli(PREPARE_DATASET_SPEC, argv);
    if (parsed.help) {
      io.out(renderHelp(PREPARE_DATASET_SPEC, { color: io.color ?? colorEnabled(process.stdout) }));
      return 0;
    }
    const values = parsed.values as {
      out?: string;
      "num-partitions"?: string;
      from?: string;
      synthetic?: boolean;
      samples?: string;
      dirichlet?: string;
      seed?: string;
      "test-fraction"?: string;
    };
    if (values.synthetic && values.from)
      throw new UsageError("--synthetic and --from exclude each other");
    if (values.samples !== undefined && !values.synthetic)
      throw new UsageError("--samples only applies with --synthetic");
    const numPartitions = number("num-partitions", values["num-partitions"], true) ?? 2;
    if (numPartitions < 1) throw new UsageError("--num-partitions must be at least 1");
    const dirichlet = number("dirichlet", values.dirichlet, false);
    if (dirichlet !== undefined && !(dirichlet > 0))
      throw new UsageError("--dirichlet must be positive");
    const testFraction = number("test-fraction", values["test-fraction"], false);
    if (testFraction !== undefined && !(testFraction >= 0 && testFraction < 1))
      throw new UsageError("--test-fraction must be in [0, 1)");
    const samples = number("samples", values.samples, true);
    const source: Cifar10Source = values.synthetic
      ? { kind: "synthetic", ...(samples === undefined ? {} : { count: samples }) }
      : values.from
        ? { kind: "archive", path: values.from }
        : { kind: "download" };
    const result = await prepareCifar10({
      outDir: values.out ?? "datasets",
      numPartitions,
      source,
      seed: number("seed", values.seed, true) ?? 42,
      ...(dirichlet === undefined ? {} : { dirichletAlpha: dirichlet }),
      ...(testFraction === undefined ? {} : { testFraction }),
      log: (l) => io.err(`${l}\n`),
    });
    io.out(`${result.partitions.map((p) => p.dir).join("\n")}\n`);
    return 0;
  } catch (error) {
    if (error instanceof CliUsageError) {
      io.err(`error: ${formatUsageError(error)}\n`);
      return 2;
    }
    if (error instanceof UsageError) {
      io.err(`error: ${error.message}. See '${PREPARE_DATASET_SPEC.name} --help'.\n`);
      return 2;
    }
    if (error instanceof Cifar10Error) {
      io.err(`error: ${error.message}\n`);
      return 1;
    }
    io.err(`error: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}
