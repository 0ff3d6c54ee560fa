/**
 * `flwr-ts-prepare-dataset`: the seed's `prepare_dataset.py` for flwr-ts.
 */
import { parseArgs } from "node:util";
import { Cifar10Error } from "../cifar10/errors.js";
import { type Cifar10Source, prepareCifar10 } from "../cifar10/prepare.js";

/** Usage text. */
export const PREPARE_DATASET_USAGE = `Usage: flwr-ts-prepare-dataset [options]

Download CIFAR-10, split its training set into partitions (each 80% train,
20% test, as the Flower example) and save them as <out>/cifar10_part_<i>.

Options:
  --out <dir>             output directory (default: datasets)
  --num-partitions <n>    number of partitions (default: 2)
  --from <archive>        use a local cifar-10-binary.tar.gz instead of downloading
  --synthetic             write a synthetic, learnable stand-in (offline use, tests)
  --samples <n>           images in the synthetic stand-in (default: 10000)
  --dirichlet <alpha>     label-skewed (non-IID) partitions with Dirichlet(alpha)
  --seed <n>              seed of shuffling and splitting (default: 42)
  --test-fraction <f>     held-out fraction per partition (default: 0.2)
  -h, --help              show this help
`;

/** Input/output of {@link runPrepareDataset}, replaceable in tests. */
export interface CliIo {
  /** Normal output. */
  out: (text: string) => void;
  /** Errors and progress. */
  err: (text: string) => void;
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
  let values: ReturnType<typeof parse>["values"];
  function parse(args: string[]) {
    return parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        out: { type: "string" },
        "num-partitions": { type: "string" },
        from: { type: "string" },
        synthetic: { type: "boolean" },
        samples: { type: "string" },
        dirichlet: { type: "string" },
        seed: { type: "string" },
        "test-fraction": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  }
  try {
    values = parse(argv).values;
    if (values.help) {
      io.out(PREPARE_DATASET_USAGE);
      return 0;
    }
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
    if (
      error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
    ) {
      io.err(`error: ${(error as Error).message}\n\n${PREPARE_DATASET_USAGE}`);
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
