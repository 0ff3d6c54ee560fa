/**
 * Training and evaluation throughput of @flwr-ts/ml's path (the seed's Net,
 * SGD momentum 0.9, batch 32, one epoch of synthetic CIFAR-shaped images;
 * evaluation at batch 256), side by side with PyTorch CPU on the same Net when
 * a Python with `torch` is found (TORCH_PYTHON, /tmp/torch-venv, .venv), else
 * against the figures recorded in the project's notes.
 *
 *   npx tsx bench/train-throughput.ts [--images 2048] [--repeats 3] [--workers 1,2]
 *     [--engines native,tfjs]
 *
 * --engines: which of flwr-ml's Net training steps to run — `native` (the
 * @flwr-ts/ml-native addon, the default when it is built) and `tfjs` (the
 * tfjs wasm kernels, FLWR_ML_NATIVE=0); default both when the addon is
 * available. Workers read the setting when they start, so the pool is
 * restarted (and warmed up, untimed) at each switch.
 *
 * Ours runs with each worker-thread count of --workers (default: 1 and the
 * number of CPUs), PyTorch with its default threads (= CPUs) and 1 thread.
 * Runs are interleaved (every configuration once per repeat) and medians
 * reported, because the machine's cores are shared; images per CPU-second
 * (process CPU time, all threads) are printed beside wall-clock figures, and
 * the load average before and after.
 */
import { execFileSync } from "node:child_process";
import { availableParallelism, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  closeTrainingWorkers,
  createNet,
  initBackend,
  nativeUnavailableReason,
  syntheticCifar10,
  test,
  tf,
  train,
} from "../packages/flwr-ml/src/index.js";
import { findTorchPython } from "./support/torch-python.js";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    images: { type: "string", default: "2048" },
    repeats: { type: "string", default: "3" },
    "batch-size": { type: "string", default: "32" },
    workers: { type: "string", default: `1,${availableParallelism()}` },
    engines: { type: "string" },
  },
});
type Engine = "native" | "tfjs";
const nativeMissing = nativeUnavailableReason();
const engines = [
  ...new Set(
    String(values.engines ?? (nativeMissing === undefined ? "native,tfjs" : "tfjs")).split(","),
  ),
] as Engine[];
if (!engines.every((e) => e === "native" || e === "tfjs")) {
  console.error("--engines must be a comma-separated list of native and tfjs");
  process.exit(2);
}
if (engines.includes("native") && nativeMissing !== undefined) {
  console.error(`--engines native: the native addon is unavailable: ${nativeMissing}`);
  process.exit(2);
}
const savedNative = process.env.FLWR_ML_NATIVE;
/** Selects flwr-ml's Net training step; restarts the workers, which read it when they start. */
async function useEngine(engine: Engine): Promise<void> {
  const value = engine === "native" ? (savedNative === "0" ? "1" : (savedNative ?? "1")) : "0";
  if (process.env.FLWR_ML_NATIVE === value) return;
  process.env.FLWR_ML_NATIVE = value;
  await closeTrainingWorkers();
}
const workerCounts = [...new Set(String(values.workers).split(",").map(Number))];
if (!workerCounts.every((n) => Number.isInteger(n) && n > 0)) {
  console.error("--workers must be a comma-separated list of positive integers, e.g. 1,2");
  process.exit(2);
}
const images = Number(values.images);
const repeats = Number(values.repeats);
const batchSize = Number(values["batch-size"]);
if (![images, repeats, batchSize].every((n) => Number.isInteger(n) && n > 0)) {
  console.error("--images, --repeats and --batch-size must be positive integers");
  process.exit(2);
}

const RECORDED = {
  train: 8325,
  eval: 37500,
  note: "recorded: PyTorch 2.13 CPU, 2 threads (tfjs-training-notes.md)",
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

const loadBefore = loadavg();
const backend = await initBackend();
const data = syntheticCifar10({ count: images, seed: 1 });
const net = createNet({ seed: 1 });
const small = {
  ...data,
  count: 256,
  pixels: data.pixels.subarray(0, 256 * 3072),
  labels: data.labels.subarray(0, 256),
};
/** Warm-up of every worker count: JIT, wasm operator caches, worker start-up. */
function warmUp(): void {
  for (const workers of workerCounts) {
    train(net, small, { epochs: 1, learningRate: 0.01, batchSize, progressBar: false, workers });
    test(net, small, { batchSize: 256, progressBar: false, workers });
  }
}

const torchPython = findTorchPython();
type Runs = { train: number[]; eval: number[]; trainCpu: number[]; evalCpu: number[] };
const runs = (): Runs => ({ train: [], eval: [], trainCpu: [], evalCpu: [] });
const key = (engine: Engine, workers: number) => `${engine}/${workers}`;
const ours = new Map(
  engines.flatMap((e) => workerCounts.map((w) => [key(e, w), runs()] as [string, Runs])),
);
const torchN = runs();
const torch1 = runs();
let torchThreads = 0;
let torchVersion = "";
/** Wall-clock and CPU-time images/s of `f` (CPU time: this process, all threads). */
function measure(f: () => void): [number, number] {
  const t = performance.now();
  const c = process.cpuUsage();
  f();
  const cpu = process.cpuUsage(c);
  return [images / ((performance.now() - t) / 1000), images / ((cpu.user + cpu.system) / 1e6)];
}
for (let r = 0; r < repeats; r++) {
  for (const engine of engines) {
    if (engines.length > 1 || r === 0) {
      await useEngine(engine);
      warmUp();
    }
    for (const workers of workerCounts) {
      const target = ours.get(key(engine, workers)) as Runs;
      const [trainWall, trainCpu] = measure(() =>
        train(net, data, { epochs: 1, learningRate: 0.01, batchSize, progressBar: false, workers }),
      );
      const [evalWall, evalCpu] = measure(() =>
        test(net, data, { batchSize: 256, progressBar: false, workers }),
      );
      target.train.push(trainWall);
      target.trainCpu.push(trainCpu);
      target.eval.push(evalWall);
      target.evalCpu.push(evalCpu);
    }
  }
  if (torchPython) {
    for (const threads of [0, 1]) {
      const out = execFileSync(
        torchPython,
        [
          join(here, "python", "train_throughput_torch.py"),
          "--images",
          String(images),
          "--batch-size",
          String(batchSize),
          "--threads",
          String(threads),
        ],
        // stderr captured (torch warns when numpy is absent); shown only if the run fails.
        { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
      );
      const res = JSON.parse(out.trim().split("\n").at(-1) as string) as {
        train: number;
        eval: number;
        train_cpu: number;
        eval_cpu: number;
        threads: number;
        version: string;
      };
      const target = threads === 0 ? torchN : torch1;
      target.train.push(res.train);
      target.eval.push(res.eval);
      target.trainCpu.push(res.train_cpu);
      target.evalCpu.push(res.eval_cpu);
      if (threads === 0) {
        torchThreads = res.threads;
        torchVersion = res.version;
      }
    }
  }
  process.stderr.write(`repeat ${r + 1}/${repeats} done\n`);
}
const loadAfter = loadavg();

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const col = (n: number) => fmt(n).padStart(10);
type Row = { name: string; runs: Runs };
const engineName = (e: Engine) => (e === "native" ? "native" : `tfjs ${backend.tfBackend}`);
const rows: Row[] = engines.flatMap((e) =>
  workerCounts.map((w) => ({
    name: `flwr-ts (${engineName(e)}, ${w} worker${w > 1 ? "s" : ""})`,
    runs: ours.get(key(e, w)) as Runs,
  })),
);
if (torchPython) {
  rows.push({ name: `PyTorch ${torchVersion} CPU, ${torchThreads} threads`, runs: torchN });
  rows.push({ name: `PyTorch ${torchVersion} CPU, 1 thread`, runs: torch1 });
}

console.log(
  `\nSeed Net, SGD momentum 0.9, batch ${batchSize}, ${images} images/epoch; eval at batch 256. Medians of ${repeats}, interleaved.`,
);
console.log(
  `${availableParallelism()} CPUs; load average (1/5/15 min) before ${loadBefore.map((l) => l.toFixed(2)).join(" ")}, after ${loadAfter.map((l) => l.toFixed(2)).join(" ")}`,
);
console.log(
  `${"engine".padEnd(40)} ${"train img/s".padStart(11)} ${"per CPU-s".padStart(10)} ${"eval img/s".padStart(11)} ${"per CPU-s".padStart(10)}`,
);
for (const { name, runs: x } of rows) {
  console.log(
    `${name.padEnd(40)} ${col(median(x.train)).padStart(11)} ${col(median(x.trainCpu))} ${col(median(x.eval)).padStart(11)} ${col(median(x.evalCpu))}`,
  );
}
const best = Math.max(...workerCounts);
const one = Math.min(...workerCounts);
const ratio = (a: number[], b: number[]) => (median(a) / median(b)).toFixed(3);
for (const e of engines) {
  const oursBest = ours.get(key(e, best)) as Runs;
  const oursOne = ours.get(key(e, one)) as Runs;
  if (torchPython) {
    console.log(
      `\n[${engineName(e)}] ratio, train (wall clock, same run): ours ${best} workers / PyTorch ${torchThreads} threads ${ratio(oursBest.train, torchN.train)}×; ` +
        `ours ${one} / PyTorch 1 thread ${ratio(oursOne.train, torch1.train)}× (target ≥ 1.0×)`,
    );
    console.log(
      `[${engineName(e)}] ratio, train (per CPU-second): ours ${best} workers / PyTorch ${torchThreads} threads ${ratio(oursBest.trainCpu, torchN.trainCpu)}×; ` +
        `ours ${one} / PyTorch 1 thread ${ratio(oursOne.trainCpu, torch1.trainCpu)}× (target ≥ 1.0×)`,
    );
    console.log(
      `[${engineName(e)}] ratio, eval (wall clock): ours ${best} workers / PyTorch ${torchThreads} threads ${ratio(oursBest.eval, torchN.eval)}×; ` +
        `per CPU-second, ours ${one} / PyTorch 1 thread ${ratio(oursOne.evalCpu, torch1.evalCpu)}×`,
    );
  } else {
    console.log(`\nno Python with torch found; ${RECORDED.note}`);
    console.log(
      `[${engineName(e)}] ratio ours ${best} workers / recorded: train ${(median(oursBest.train) / RECORDED.train).toFixed(3)}×, eval ${(median(oursBest.eval) / RECORDED.eval).toFixed(3)}×`,
    );
  }
}
console.log("\nall runs (train img/s, wall):");
for (const { name, runs: x } of rows)
  console.log(`  ${name}: ${x.train.map(Math.round).join(", ")}`);
net.dispose();
if (savedNative === undefined) delete process.env.FLWR_ML_NATIVE;
else process.env.FLWR_ML_NATIVE = savedNative;
await closeTrainingWorkers();
console.log(`tensors alive: ${tf.memory().numTensors}`);
