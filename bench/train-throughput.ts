/**
 * Training and evaluation throughput of @flwr-ts/ml's path (the seed's Net,
 * SGD momentum 0.9, batch 32, one epoch of synthetic CIFAR-shaped images;
 * evaluation at batch 256), side by side with PyTorch CPU on the same Net when
 * a Python with `torch` is found (TORCH_PYTHON, /tmp/torch-venv, .venv), else
 * against the figures recorded in the project's notes.
 *
 *   npx tsx bench/train-throughput.ts [--images 2048] [--repeats 3]
 *
 * Runs are interleaved (ours, then PyTorch, per repeat) and medians reported,
 * because the machine's cores are shared.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  createNet,
  initBackend,
  syntheticCifar10,
  test,
  tf,
  train,
} from "../packages/flwr-ml/src/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    images: { type: "string", default: "2048" },
    repeats: { type: "string", default: "3" },
    "batch-size": { type: "string", default: "32" },
  },
});
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

function findTorchPython(): string | undefined {
  const candidates = [
    process.env.TORCH_PYTHON,
    "/tmp/torch-venv/bin/python",
    join(here, "..", ".venv", "bin", "python"),
  ];
  for (const py of candidates) {
    if (!py || !existsSync(py)) continue;
    const r = spawnSync(py, ["-c", "import torch"], { stdio: "ignore" });
    if (r.status === 0) return py;
  }
  return undefined;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

const backend = await initBackend();
const data = syntheticCifar10({ count: images, seed: 1 });
const net = createNet({ seed: 1 });
// Warm-up: JIT, wasm operator caches.
train(
  net,
  {
    ...data,
    count: 256,
    pixels: data.pixels.subarray(0, 256 * 3072),
    labels: data.labels.subarray(0, 256),
  },
  {
    epochs: 1,
    learningRate: 0.01,
    batchSize,
    progressBar: false,
  },
);
test(net, data, { batchSize: 256, progressBar: false });

const torchPython = findTorchPython();
type Runs = { train: number[]; eval: number[]; trainCpu: number[]; evalCpu: number[] };
const runs = (): Runs => ({ train: [], eval: [], trainCpu: [], evalCpu: [] });
const ours = runs();
const torch = { ...runs(), threads: 0, version: "" };
const torch1 = runs();
/** Wall-clock and CPU-time images/s of `f` (CPU time: this process, all threads). */
function measure(f: () => void): [number, number] {
  const t = performance.now();
  const c = process.cpuUsage();
  f();
  const cpu = process.cpuUsage(c);
  return [images / ((performance.now() - t) / 1000), images / ((cpu.user + cpu.system) / 1e6)];
}
for (let r = 0; r < repeats; r++) {
  const [trainWall, trainCpu] = measure(() =>
    train(net, data, { epochs: 1, learningRate: 0.01, batchSize, progressBar: false }),
  );
  const [evalWall, evalCpu] = measure(() =>
    test(net, data, { batchSize: 256, progressBar: false }),
  );
  ours.train.push(trainWall);
  ours.trainCpu.push(trainCpu);
  ours.eval.push(evalWall);
  ours.evalCpu.push(evalCpu);
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
      const target = threads === 0 ? torch : torch1;
      target.train.push(res.train);
      target.eval.push(res.eval);
      target.trainCpu.push(res.train_cpu);
      target.evalCpu.push(res.eval_cpu);
      if (threads === 0) {
        torch.threads = res.threads;
        torch.version = res.version;
      }
    }
  }
  process.stderr.write(`repeat ${r + 1}/${repeats} done\n`);
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US").padStart(8);
const ourTrain = median(ours.train);
const ourEval = median(ours.eval);
const rows: [string, number, number][] = [
  [`flwr-ts (tfjs ${backend.tfBackend}, 1 thread)`, ourTrain, ourEval],
];
let refTrain = RECORDED.train;
let refEval = RECORDED.eval;
let refNote = RECORDED.note;
if (torchPython) {
  // The faster PyTorch configuration is the reference (with busy cores, two
  // threads can be slower than one).
  const two = { train: median(torch.train), eval: median(torch.eval) };
  const one = { train: median(torch1.train), eval: median(torch1.eval) };
  refTrain = Math.max(two.train, one.train);
  refEval = Math.max(two.eval, one.eval);
  refNote = `measured now, best of PyTorch ${torch.version} CPU with ${torch.threads} threads and 1 thread (${torchPython}); recorded figure on an idle machine: ${RECORDED.train} train / ${RECORDED.eval} eval, ratio vs it ${(ourTrain / RECORDED.train).toFixed(3)}×`;
  rows.push([`PyTorch ${torch.version} CPU, ${torch.threads} threads`, two.train, two.eval]);
  rows.push([`PyTorch ${torch.version} CPU, 1 thread`, one.train, one.eval]);
} else {
  rows.push(["PyTorch CPU (recorded figure)", refTrain, refEval]);
}

console.log(
  `\nTraining throughput, seed Net, batch ${batchSize}, ${images} images/epoch; eval at batch 256 (medians of ${repeats})`,
);
console.log(`${"engine".padEnd(44)} ${"train img/s".padStart(11)} ${"eval img/s".padStart(11)}`);
for (const [name, tr, ev] of rows)
  console.log(`${name.padEnd(44)} ${fmt(tr).padStart(11)} ${fmt(ev).padStart(11)}`);
console.log(`\nreference: ${refNote}`);
console.log(
  `ratio ours/PyTorch: train ${(ourTrain / refTrain).toFixed(3)}×, eval ${(ourEval / refEval).toFixed(3)}× (target ≥ 0.35× train)`,
);
console.log(
  `all runs: ours train ${ours.train.map(Math.round).join(", ")}; eval ${ours.eval.map(Math.round).join(", ")}`,
);
if (torchPython) {
  console.log(
    `all runs: torch (${torch.threads} threads) train ${torch.train.map(Math.round).join(", ")}; eval ${torch.eval.map(Math.round).join(", ")}`,
  );
  console.log(
    `all runs: torch (1 thread) train ${torch1.train.map(Math.round).join(", ")}; eval ${torch1.eval.map(Math.round).join(", ")}`,
  );
}
if (torchPython) {
  // Images per CPU-second, single-threaded both: robust to other processes
  // sharing the cores (wall-clock figures above are not).
  const oursCpu = median(ours.trainCpu);
  const torchCpu = median(torch1.trainCpu);
  console.log(
    `\nper CPU-second (1 thread each, insensitive to shared cores): ours train ${fmt(oursCpu).trim()} / eval ${fmt(median(ours.evalCpu)).trim()}, ` +
      `PyTorch 1 thread train ${fmt(torchCpu).trim()} / eval ${fmt(median(torch1.evalCpu)).trim()}; ratio train ${(oursCpu / torchCpu).toFixed(3)}×`,
  );
  console.log(
    `  scaled to the recorded idle 2-thread PyTorch figure (${RECORDED.train} = ${(RECORDED.train / 6293).toFixed(2)}× its 1-thread 6,293): ratio ≈ ${((oursCpu / torchCpu) * (6293 / RECORDED.train)).toFixed(3)}×`,
  );
} else {
  console.log(
    `ours per CPU-second: train ${fmt(median(ours.trainCpu)).trim()}, eval ${fmt(median(ours.evalCpu)).trim()}`,
  );
}
console.log(`tensors alive: ${tf.memory().numTensors}`);
net.dispose();
