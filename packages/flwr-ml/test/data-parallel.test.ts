/**
 * Data-parallel training across worker threads: the same weights as
 * in-process training (to 1e-5) on the same data and seed, determinism for a
 * given worker count, uneven and empty shards, the async path, evaluation,
 * option validation, no tensor leaks, and worker shutdown.
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../src/backend.js";
import { syntheticCifar10 } from "../src/cifar10/synthetic.js";
import { test as evaluate, testAsync } from "../src/evaluate.js";
import { createNet, type Net } from "../src/net.js";
import { resolveWorkers, WORKERS_ENV } from "../src/parallel/data-parallel.js";
import { PARAM_COUNT } from "../src/parallel/param-layout.js";
import type { EvalJob } from "../src/parallel/protocol.js";
import {
  abort,
  CTL,
  CTL_LENGTH,
  JobAbortedError,
  waitAtLeast,
} from "../src/parallel/shared-sync.js";
import {
  closeTrainingWorkers,
  TrainingWorkerError,
  WorkerPool,
} from "../src/parallel/worker-pool.js";
import * as tf from "../src/tf.js";
import {
  TrainingOptionsError,
  type TrainOptions,
  type TrainProgress,
  train,
  trainAsync,
} from "../src/train.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

beforeAll(async () => {
  await initBackend({ log: null });
});

afterAll(async () => {
  await closeTrainingWorkers();
});

function flat(net: Net): Float32Array {
  const parts = net.trainableVariables.map((v) => v.dataSync() as Float32Array);
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** Trains a fresh Net (seed 7) and returns its weights, loss and progress. */
function run(
  workers: number,
  data = syntheticCifar10({ count: 160, seed: 3 }),
  extra: Partial<TrainOptions> = {},
) {
  const net = createNet({ seed: 7 });
  const progress: TrainProgress[] = [];
  const loss = train(net, data, {
    epochs: 1,
    learningRate: 0.05,
    momentum: 0.9,
    batchSize: 32,
    seed: 11,
    progressBar: false,
    workers,
    onProgress: (p) => progress.push(p),
    ...extra,
  });
  const weights = flat(net);
  net.dispose();
  const fresh = createNet({ seed: 7 });
  const initial = flat(fresh);
  fresh.dispose();
  return { weights, loss, progress, moved: maxAbsDiff(weights, initial) };
}

describe("data-parallel training", () => {
  it("gives the in-process result to 1e-5 after several steps (2 and 3 workers)", () => {
    const single = run(1);
    expect(single.moved).toBeGreaterThan(1e-3); // the steps did change the weights
    for (const workers of [2, 3]) {
      const parallel = run(workers);
      expect(maxAbsDiff(parallel.weights, single.weights)).toBeLessThan(1e-5);
      expect(parallel.loss).toBeCloseTo(single.loss, 5);
      expect(parallel.progress).toHaveLength(5);
      parallel.progress.forEach((p, i) => {
        const q = single.progress[i] as TrainProgress;
        expect(p).toMatchObject({ epoch: q.epoch, epochs: q.epochs, seen: q.seen, total: q.total });
        expect(p.loss).toBeCloseTo(q.loss, 5);
      });
    }
  });

  it("matches with uneven shards, empty shards, a partial last batch and two epochs", () => {
    // 13 examples, batch 5, 3 workers: shards 2/2/1, and the last batch of 3 gives 1/1/1;
    // batch 2 with 3 workers leaves one worker without examples on every step.
    const data = syntheticCifar10({ count: 13, seed: 5 });
    for (const batchSize of [5, 2]) {
      const single = run(1, data, { batchSize, epochs: 2 });
      const parallel = run(3, data, { batchSize, epochs: 2 });
      expect(maxAbsDiff(parallel.weights, single.weights)).toBeLessThan(1e-5);
      expect(parallel.progress.map((p) => p.seen)).toEqual(single.progress.map((p) => p.seen));
    }
  });

  it("is deterministic for a given seed and worker count, and leaks no tensors", () => {
    const before = tf.memory().numTensors;
    const a = run(2);
    const b = run(2);
    expect(Array.from(a.weights)).toEqual(Array.from(b.weights));
    expect(a.loss).toBe(b.loss);
    const c = run(2, undefined, { shuffle: false });
    expect(maxAbsDiff(c.weights, run(1, undefined, { shuffle: false }).weights)).toBeLessThan(1e-5);
    expect(maxAbsDiff(c.weights, a.weights)).toBeGreaterThan(0); // the order matters
    expect(tf.memory().numTensors).toBe(before);
  });

  it("trainAsync with workers equals train with workers, and the event loop runs meanwhile", async () => {
    const data = syntheticCifar10({ count: 96, seed: 2 });
    const options = {
      epochs: 1,
      learningRate: 0.05,
      batchSize: 16,
      seed: 3,
      progressBar: false,
      workers: 2,
    };
    const a = createNet({ seed: 11 });
    const b = createNet({ seed: 11 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const lossAsync = await trainAsync(a, data, options);
    clearInterval(timer);
    const lossSync = train(b, data, options);
    expect(lossAsync).toBe(lossSync);
    expect(Array.from(flat(a))).toEqual(Array.from(flat(b)));
    expect(ticks).toBeGreaterThan(0);
    a.dispose();
    b.dispose();
  });

  it("queues concurrent trainAsync calls on the pool; a synchronous call meanwhile is refused", async () => {
    const data = syntheticCifar10({ count: 64, seed: 4 });
    const options = {
      epochs: 1,
      learningRate: 0.05,
      batchSize: 16,
      seed: 1,
      progressBar: false,
      workers: 2,
    };
    const [a, b, c] = [createNet({ seed: 5 }), createNet({ seed: 5 }), createNet({ seed: 5 })];
    const first = trainAsync(a, data, options);
    const second = trainAsync(b, data, options);
    expect(() => train(c, data, options)).toThrow(/busy/);
    const [la, lb] = await Promise.all([first, second]);
    expect(la).toBe(lb);
    expect(Array.from(flat(a))).toEqual(Array.from(flat(b)));
    for (const net of [a, b, c]) net.dispose();
  });

  it("evaluates across workers with the in-process result", async () => {
    const data = syntheticCifar10({ count: 300, seed: 9 });
    const net = createNet({ seed: 2 });
    const before = tf.memory().numTensors;
    const single = evaluate(net, data, { batchSize: 64, workers: 1, progressBar: false });
    for (const r of [
      evaluate(net, data, { batchSize: 64, workers: 2, progressBar: false }),
      await testAsync(net, data, { batchSize: 64, workers: 3, progressBar: false }),
    ]) {
      expect(r.accuracy).toBe(single.accuracy);
      expect(r.count).toBe(300);
      expect(r.loss).toBeCloseTo(single.loss, 5);
    }
    expect(tf.memory().numTensors).toBe(before);
    net.dispose();
  });

  it("trains on already-normalised float pixels as on bytes", () => {
    const bytes = syntheticCifar10({ count: 64, seed: 8 });
    const floats = { ...bytes, pixels: Float32Array.from(bytes.pixels, (b) => b / 127.5 - 1) };
    const a = run(2, bytes, { batchSize: 16 });
    const b = run(2, floats, { batchSize: 16 });
    expect(maxAbsDiff(a.weights, b.weights)).toBeLessThan(1e-6);
  });

  it("reports a worker's failure as a TrainingWorkerError instead of hanging", async () => {
    // Workers asked for tfjs-node, which is not installed here: their backend fails.
    const pool = new WorkerPool("node");
    const data = syntheticCifar10({ count: 8, seed: 1 });
    const job = (worker: number, ctl: Int32Array): EvalJob => ({
      kind: "eval",
      worker,
      workers: 2,
      ctl,
      data: {
        count: data.count,
        shape: [32, 32, 3],
        numClasses: 10,
        pixels: new Uint8Array(new SharedArrayBuffer(data.pixels.length)),
        labels: new Uint8Array(new SharedArrayBuffer(data.count)),
      },
      weights: new Float32Array(new SharedArrayBuffer(4 * PARAM_COUNT)),
      batchSize: 4,
      results: new Float64Array(new SharedArrayBuffer(32)),
    });
    const jobs = () => {
      const ctl = new Int32Array(new SharedArrayBuffer(4 * CTL_LENGTH));
      return [job(0, ctl), job(1, ctl)];
    };
    try {
      expect(() => pool.runSync(jobs(), () => {})).toThrow(TrainingWorkerError);
      // The pool stays usable after a failed job, and says why again.
      await expect(pool.run(jobs(), () => {})).rejects.toThrow(/tfjs-node/);
    } finally {
      await pool.close();
    }
  });

  it("validates the worker count (option and environment)", () => {
    for (const bad of [0, 1.5, 65, Number.NaN]) {
      expect(() => resolveWorkers(bad)).toThrow(TrainingOptionsError);
    }
    const saved = process.env[WORKERS_ENV];
    try {
      process.env[WORKERS_ENV] = "3";
      expect(resolveWorkers(undefined)).toBe(3);
      expect(resolveWorkers(1)).toBe(1);
      process.env[WORKERS_ENV] = "two";
      expect(() => resolveWorkers(undefined)).toThrow(/FLWR_TRAIN_WORKERS="two"/);
      const net = createNet({ seed: 1 });
      expect(() =>
        train(net, syntheticCifar10({ count: 4, seed: 1 }), { epochs: 1, learningRate: 0.1 }),
      ).toThrow(TrainingOptionsError);
      net.dispose();
    } finally {
      if (saved === undefined) delete process.env[WORKERS_ENV];
      else process.env[WORKERS_ENV] = saved;
    }
  });

  it("restarts workers after closeTrainingWorkers", async () => {
    const before = run(2).weights;
    await closeTrainingWorkers();
    expect(Array.from(run(2).weights)).toEqual(Array.from(before));
  });

  it("lets the process exit by itself after parallel training (no hanging workers)", () => {
    const r = spawnSync(
      "npx",
      ["tsx", join(root, "packages/flwr-ml/test/helpers/parallel-exit.ts")],
      {
        cwd: root,
        encoding: "utf8",
        timeout: 120_000,
      },
    );
    expect(r.error).toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as { loss: number; accuracy: number };
    expect(Number.isFinite(out.loss)).toBe(true);
  }, 150_000);
});

describe("shared-memory waits", () => {
  it("return once the counter reaches the target and throw after an abort", () => {
    const ctl = new Int32Array(new SharedArrayBuffer(4 * CTL_LENGTH));
    const counters = new Int32Array(new SharedArrayBuffer(8));
    counters[1] = 3;
    waitAtLeast(ctl, counters, 1, 3); // already there: no wait
    abort(ctl);
    expect(Atomics.load(ctl, CTL.signal)).toBe(1);
    expect(() => waitAtLeast(ctl, counters, 0, 1)).toThrow(JobAbortedError);
  });
});
