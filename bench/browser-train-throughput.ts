/**
 * Training throughput of the browser SuperNode's Web Worker (`@flwr-ts/web`: tfjs cpu backend
 * with flwr-ml's kernels, in Debian's chromium, headless) beside Node's in the same run (flwr-ml's
 * `train()` in-process on the same cpu backend, and on the engine Node picks by default —
 * native addon or wasm), plus the bundle sizes. The seed's Net, SGD momentum 0.9, batch 32, one
 * epoch of synthetic CIFAR-shaped images; medians of --repeats, load average printed.
 *
 *   npx tsx --conditions=source bench/browser-train-throughput.ts [--images 512] [--repeats 3]
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { extname, join } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { launch } from "puppeteer-core";
import { run } from "../e2e/support/processes.js";
import {
  createNet,
  getWeights,
  initBackend,
  registerTrainingKernels,
  syntheticCifar10,
  tf,
  train,
} from "../packages/flwr-ml/src/index.js";

const { values } = parseArgs({
  options: {
    images: { type: "string", default: "512" },
    repeats: { type: "string", default: "3" },
  },
});
const images = Number(values.images);
const repeats = Number(values.repeats);
if (!Number.isInteger(images) || images < 32 || !Number.isInteger(repeats) || repeats < 1) {
  console.error("--images (≥ 32) and --repeats (≥ 1) must be integers");
  process.exit(2);
}
const repo = join(import.meta.dirname, "..");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load0 = loadavg()[0]!;

// The bundle.
const out = mkdtempSync(join(tmpdir(), "flwr-ts-web-bench-"));
const built = await run(
  process.execPath,
  [join(repo, "packages/flwr-web/build-web.mjs"), "--out", out],
  {
    timeoutMs: 120_000,
  },
);
if (built.code !== 0) throw new Error(built.output);
const sizes = ["main.js", "worker.js"].map((f) => {
  const bytes = readFileSync(join(out, f));
  return { f, raw: statSync(join(out, f)).size, gz: gzipSync(bytes).length };
});

// Initial weights, shared by every run.
await tf.setBackend("cpu");
const net0 = createNet();
const weights = [...getWeights(net0)].map(([name, w]) => ({
  name,
  shape: w.shape,
  data: [...w.data],
}));
net0.dispose();

// Node: cpu backend with flwr-ml's kernels (the worker's engine), in-process.
function nodeRun(): number {
  const net = createNet();
  const data = syntheticCifar10({ count: images, seed: 7 });
  const t0 = performance.now();
  train(net, data, { epochs: 1, batchSize: 32, learningRate: 0.1, workers: 1, progressBar: false });
  const s = (performance.now() - t0) / 1000;
  net.dispose();
  return images / s;
}
registerTrainingKernels("cpu");
// The worker's engine exactly: no native addon (the bundle sets FLWR_ML_NATIVE=0 too).
const nativeSetting = process.env["FLWR_ML_NATIVE"];
process.env["FLWR_ML_NATIVE"] = "0";
const nodeCpu: number[] = [];
for (let i = 0; i < repeats; i++) nodeCpu.push(nodeRun());
if (nativeSetting === undefined) delete process.env["FLWR_ML_NATIVE"];
else process.env["FLWR_ML_NATIVE"] = nativeSetting;
const backend = await initBackend();
const nodeDefault: number[] = [];
for (let i = 0; i < repeats; i++) nodeDefault.push(nodeRun());

// Browser: the page's worker, driven directly.
const server = createServer((req, res) => {
  const file = (req.url ?? "/") === "/" ? "index.html" : (req.url ?? "").slice(1).split("?")[0]!;
  try {
    const body = readFileSync(join(out, file));
    res.writeHead(200, {
      "content-type": extname(file) === ".js" ? "text/javascript" : "text/html",
    });
    res.end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const port = (server.address() as { port: number }).port;
const browser = await launch({
  executablePath: "/usr/lib/chromium/chromium",
  headless: true,
  args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
});
const page = await browser.newPage();
await page.goto(`http://127.0.0.1:${port}/`);
const browserRuns = (await page.evaluate(
  `(async () => {
    const worker = new Worker("/worker.js", { type: "module" });
    const weights = ${JSON.stringify(weights)};
    const once = (id) => new Promise((resolve, reject) => {
      worker.onmessage = (e) => {
        if (e.data.type === "trained" && e.data.id === id) resolve(e.data.imagesPerSecond);
        if (e.data.type === "failed") reject(new Error(e.data.error));
      };
      worker.postMessage({ type: "train", id, epochs: 1, batchSize: 32, learningRate: 0.1,
        data: { kind: "synthetic", trainCount: ${images}, testCount: 32, seed: 7 },
        weights: weights.map((w) => ({ name: w.name, shape: w.shape, data: Float32Array.from(w.data) })) });
    });
    await once(0); // warm-up (data generation, kernel compilation)
    const out = [];
    for (let i = 1; i <= ${repeats}; i++) out.push(await once(i));
    return out;
  })()`,
)) as number[];
await browser.close();
server.close();
rmSync(out, { recursive: true, force: true });

console.log(
  `\nTraining throughput, the seed's Net, batch 32, ${images} images, median of ${repeats} (img/s)\n`,
);
console.log("| where | engine | img/s |");
console.log("|---|---|---|");
console.log(
  `| chromium (headless), Web Worker | tfjs cpu + flwr-ml kernels | ${median(browserRuns).toFixed(1)} |`,
);
console.log(
  `| Node ${process.version}, in-process | tfjs cpu + flwr-ml kernels, no addon | ${median(nodeCpu).toFixed(1)} |`,
);
console.log(
  `| Node ${process.version}, in-process | default: ${backend.choice} (${backend.tfBackend}) | ${median(nodeDefault).toFixed(1)} |`,
);
console.log("\n| bundle | bytes | gzip |");
console.log("|---|---|---|");
for (const s of sizes)
  console.log(`| ${s.f} | ${(s.raw / 1024).toFixed(0)} KiB | ${(s.gz / 1024).toFixed(0)} KiB |`);
console.log(`\nload average: ${load0.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after`);
