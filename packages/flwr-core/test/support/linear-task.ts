/**
 * Test support: a linear-regression ClientApp on generated data (y = 2·x1 − 3·x2 + 0.5 + noise),
 * trained with full-batch gradient descent. Used by FedAvg and simulation tests.
 */
import {
  ArrayRecord,
  ClientApp,
  type ClientAppOptions,
  type Context,
  Message,
  MetricRecord,
  NdArray,
  RecordDict,
} from "../../src/index.js";

/** Deterministic uniform [-1, 1) generator (LCG). */
function rng(seed: number): () => number {
  let s = (seed * 2654435761 + 12345) >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

/** A generated dataset. */
export interface Dataset {
  x: Float64Array; // n × 2
  y: Float64Array;
  n: number;
}

/** Makes `n` examples from `seed`. */
export function makeData(seed: number, n: number): Dataset {
  const r = rng(seed);
  const x = new Float64Array(n * 2);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = r();
    x[2 * i + 1] = r();
    y[i] = 2 * x[2 * i]! - 3 * x[2 * i + 1]! + 0.5 + 0.01 * r();
  }
  return { x, y, n };
}

/** Mean squared error of (w, b) on `d`. */
export function mse(w: ArrayLike<number>, b: number, d: Dataset): number {
  let s = 0;
  for (let i = 0; i < d.n; i++) {
    const e = w[0]! * d.x[2 * i]! + w[1]! * d.x[2 * i + 1]! + b - d.y[i]!;
    s += e * e;
  }
  return s / d.n;
}

/** The initial model: zeros. */
export function initialModel(): ArrayRecord {
  return new ArrayRecord({
    w: NdArray.fromTypedArray(new Float32Array([0, 0])),
    b: NdArray.fromTypedArray(new Float32Array([0])),
  });
}

function datasetOf(context: Context): Dataset {
  const id = Number(context.nodeConfig["partition-id"] ?? 0n);
  return makeData(100 + id, 40 + 30 * id);
}

/** Options of {@link linearClientApp}. */
export interface LinearAppOptions extends ClientAppOptions {
  /** Partition ids whose train handler throws. */
  failTrainOn?: readonly number[];
}

/** A ClientApp training the linear model (lr and epochs from the message config). */
export function linearClientApp(options: LinearAppOptions = {}): ClientApp {
  const app = new ClientApp(options);
  app.train()(async (msg, context) => {
    const id = Number(context.nodeConfig["partition-id"] ?? 0n);
    if (options.failTrainOn?.includes(id)) throw new Error(`node ${id} is broken`);
    const d = datasetOf(context);
    const arrays = msg.content.arrayRecords.get("arrays")!;
    const config = msg.content.configRecords.get("config")!;
    const lr = (config.get("lr") as number | undefined) ?? 0.5;
    const epochs = Number((config.get("epochs") as bigint | undefined) ?? 10n);
    const w = Array.from(arrays.get("w")!.toTypedArray("float32"));
    let b = arrays.get("b")!.toTypedArray("float32")[0]!;
    for (let e = 0; e < epochs; e++) {
      let g0 = 0;
      let g1 = 0;
      let gb = 0;
      for (let i = 0; i < d.n; i++) {
        const err = w[0]! * d.x[2 * i]! + w[1]! * d.x[2 * i + 1]! + b - d.y[i]!;
        g0 += err * d.x[2 * i]!;
        g1 += err * d.x[2 * i + 1]!;
        gb += err;
      }
      w[0] = w[0]! - (lr * 2 * g0) / d.n;
      w[1] = w[1]! - (lr * 2 * g1) / d.n;
      b -= (lr * 2 * gb) / d.n;
    }
    const content = new RecordDict([
      [
        "arrays",
        new ArrayRecord({
          w: NdArray.fromTypedArray(new Float32Array(w)),
          b: NdArray.fromTypedArray(new Float32Array([b])),
        }),
      ],
      [
        "metrics",
        new MetricRecord({
          "num-examples": BigInt(d.n),
          train_loss: mse(w, b, d),
          server_round: config.get("server-round") as bigint,
        }),
      ],
    ]);
    return new Message(content, { replyTo: msg });
  });
  app.evaluate()(async (msg, context) => {
    const d = datasetOf(context);
    const arrays = msg.content.arrayRecords.get("arrays")!;
    const loss = mse(
      arrays.get("w")!.toTypedArray("float32"),
      arrays.get("b")!.toTypedArray("float32")[0]!,
      d,
    );
    const content = new RecordDict({
      metrics: new MetricRecord({ "num-examples": BigInt(d.n), eval_loss: loss }),
    });
    return new Message(content, { replyTo: msg });
  });
  return app;
}
