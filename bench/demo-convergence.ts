/**
 * Does the demo's training converge every time, and does PyTorch behave the same?
 *
 * Prepares the demo's partitions (`flwr-ts-prepare-dataset --synthetic`, or `--datasets` for
 * ones already prepared, e.g. real CIFAR-10) and runs the demo's federated training on them
 * `--trials` times with fresh random initialisations and shuffles: the seed's Net, SGD with
 * momentum 0.9, batch 32, one local epoch per round, FedAvg weighted by the number of training
 * examples, accuracy of the aggregated model on every partition's test split. It does so with
 * flwr-ml in this process and with PyTorch (bench/python/fedavg_convergence_torch.py) when a
 * Python with torch is found, and prints both side by side, with the demo's stability
 * criterion: final accuracy ≥ 0.9 and no round more than 0.1 below the one before.
 *
 *   npx tsx bench/demo-convergence.ts [--trials 5] [--samples 10000] [--lr 0.01] [--rounds 3]
 *                                     [--datasets <dir>] [--no-torch]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  closeTrainingWorkers,
  createNet,
  getWeights,
  initBackend,
  loadPartition,
  type NetWeights,
  prepareCifar10,
  setWeights,
  testAsync,
  trainAsync,
  type WeightTensor,
} from "../packages/flwr-ml/src/index.js";
import { findTorchPython } from "./support/torch-python.js";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    trials: { type: "string", default: "5" },
    samples: { type: "string", default: "10000" },
    lr: { type: "string", default: "0.01" },
    momentum: { type: "string", default: "0.9" },
    rounds: { type: "string", default: "3" },
    datasets: { type: "string" },
    "no-torch": { type: "boolean", default: false },
  },
});
function positive(name: string, text: string, integer: boolean): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    console.error(`--${name} must be a positive ${integer ? "integer" : "number"}, got "${text}"`);
    process.exit(2);
  }
  return n;
}
const trials = positive("trials", values.trials, true);
const samples = positive("samples", values.samples, true);
const lr = positive("lr", values.lr, false);
const momentum = Number(values.momentum);
const rounds = positive("rounds", values.rounds, true);

/** One round of one trial: each node's mean training loss, then each node's test accuracy. */
interface Round {
  train_loss: number[];
  accuracy: number[];
}

let tmp: string | undefined;
let root = values.datasets;
if (root === undefined) {
  tmp = mkdtempSync(join(tmpdir(), "flwr-convergence-"));
  root = tmp;
  await prepareCifar10({
    outDir: root,
    numPartitions: 2,
    source: { kind: "synthetic", count: samples },
    log: null,
  });
}
const dirs = readdirSync(root)
  .filter((d) => d.startsWith("cifar10_part_"))
  .sort()
  .map((d) => join(root as string, d));
if (dirs.length === 0) {
  console.error(`no cifar10_part_* partitions under ${root}`);
  process.exit(2);
}
const parts = await Promise.all(dirs.map((d) => loadPartition(d)));
const synthetic = parts[0]?.header.synthetic === true;

function fedAvg(results: { weights: NetWeights; count: number }[]): NetWeights {
  const total = results.reduce((s, r) => s + r.count, 0);
  const out: NetWeights = new Map();
  for (const [name, first] of results[0]?.weights ?? []) {
    const data = new Float32Array(first.data.length);
    for (const { weights, count } of results) {
      const src = (weights.get(name) as WeightTensor).data;
      const f = count / total;
      for (let i = 0; i < data.length; i++) data[i] = (data[i] as number) + (src[i] as number) * f;
    }
    out.set(name, { shape: first.shape, data });
  }
  return out;
}

async function flwrMlTrial(): Promise<Round[]> {
  const initial = createNet();
  let global = getWeights(initial);
  initial.dispose();
  const out: Round[] = [];
  for (let r = 0; r < rounds; r++) {
    const results: { weights: NetWeights; count: number }[] = [];
    const losses: number[] = [];
    for (const part of parts) {
      const net = createNet();
      setWeights(net, global);
      losses.push(
        await trainAsync(net, part.train, {
          epochs: 1,
          learningRate: lr,
          momentum,
          batchSize: 32,
          progressBar: false,
        }),
      );
      results.push({ weights: getWeights(net), count: part.train.count });
      net.dispose();
    }
    global = fedAvg(results);
    const net = createNet();
    setWeights(net, global);
    const accuracy: number[] = [];
    for (const part of parts)
      accuracy.push((await testAsync(net, part.test, { progressBar: false })).accuracy);
    net.dispose();
    out.push({ train_loss: losses, accuracy });
  }
  return out;
}

const loadBefore = loadavg();
const backend = await initBackend();
const ours: Round[][] = [];
for (let t = 0; t < trials; t++) {
  ours.push(await flwrMlTrial());
  process.stderr.write(`flwr-ml trial ${t + 1}/${trials} done\n`);
}
await closeTrainingWorkers();

const torchPython = values["no-torch"] ? undefined : findTorchPython();
const theirs: Round[][] = [];
let torchVersion = "";
if (torchPython) {
  const out = execFileSync(
    torchPython,
    [
      join(here, "python", "fedavg_convergence_torch.py"),
      ...dirs,
      "--trials",
      String(trials),
      "--rounds",
      String(rounds),
      "--lr",
      String(lr),
      "--momentum",
      String(momentum),
    ],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 16 << 20 },
  );
  for (const line of out.split("\n").filter(Boolean)) {
    const r = JSON.parse(line) as { torch: string; rounds: Round[] };
    torchVersion = r.torch;
    theirs.push(r.rounds);
  }
}
if (tmp) rmSync(tmp, { recursive: true, force: true });

/** Accuracy of a round: the mean over the nodes' test splits, weighted by their sizes. */
const sizes = parts.map((p) => p.test.count);
const totalTest = sizes.reduce((a, b) => a + b, 0);
const acc = (r: Round) =>
  r.accuracy.reduce((s, a, i) => s + a * (sizes[i] as number), 0) / totalTest;
const stable = (t: Round[]) => {
  const a = t.map(acc);
  return (
    (a.at(-1) as number) >= 0.9 && a.every((v, i) => i === 0 || v >= (a[i - 1] as number) - 0.1)
  );
};
const maxDrop = (t: Round[]) =>
  Math.max(0, ...t.map(acc).map((v, i, a) => (i === 0 ? 0 : (a[i - 1] as number) - v)));

const p = (n: number) => n.toFixed(3);
console.log(
  `\nDemo training: ${dirs.length} partitions of ${root === tmp ? `${samples} ${synthetic ? "SYNTHETIC" : ""} images` : root}` +
    ` (${parts.map((x) => `${x.train.count}+${x.test.count}`).join(", ")} train+test), seed's Net, SGD lr ${lr} momentum ${momentum}, batch 32, 1 local epoch, FedAvg, ${rounds} rounds, ${trials} trials.`,
);
console.log(
  `flwr-ml on tfjs ${backend.tfBackend}; ${torchPython ? `PyTorch ${torchVersion} CPU` : "PyTorch: no Python with torch found"}. Load average before ${loadBefore.map((l) => l.toFixed(2)).join(" ")}, after ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}.`,
);
const header = `${"engine".padEnd(16)} ${"trial".padStart(5)} ${Array.from({ length: rounds }, (_, i) => `r${i + 1} acc`.padStart(7)).join(" ")} ${"last loss".padStart(9)}  stable`;
console.log(header);
const rows: [string, Round[][]][] = [["flwr-ml", ours]];
if (theirs.length) rows.push([`PyTorch`, theirs]);
for (const [name, runs] of rows)
  runs.forEach((t, i) => {
    const last = t.at(-1) as Round;
    const loss = last.train_loss.reduce((a, b) => a + b, 0) / last.train_loss.length;
    console.log(
      `${name.padEnd(16)} ${String(i + 1).padStart(5)} ${t.map((r) => p(acc(r)).padStart(7)).join(" ")} ${p(loss).padStart(9)}  ${stable(t) ? "yes" : "NO"}`,
    );
  });
console.log(
  "\nsummary (final accuracy min / mean / max, largest drop between rounds, stable runs):",
);
for (const [name, runs] of rows) {
  const finals = runs.map((t) => acc(t.at(-1) as Round));
  console.log(
    `  ${name.padEnd(14)} ${p(Math.min(...finals))} / ${p(finals.reduce((a, b) => a + b, 0) / finals.length)} / ${p(Math.max(...finals))}, ` +
      `drop ${p(Math.max(...runs.map(maxDrop)))}, stable ${runs.filter(stable).length}/${runs.length}`,
  );
}
