/**
 * The page's built-in ClientApp: the authexample's (`examples/authexample/authexample/
 * client_app.ts`) train and evaluate handlers — the same record keys (`arrays`, `config.lr`,
 * `metrics` with `train_loss` / `eval_loss` / `eval_acc` / `num-examples`) and run config
 * (`local-epochs`, `batch-size`, `learning-rate`) — with the training itself in a Web Worker
 * ({@link TrainingWorker}), so the page never blocks.
 */
import {
  ArrayRecord,
  ClientApp,
  ConfigRecord,
  type Context,
  Message,
  MetricRecord,
  NdArray,
  RecordDict,
} from "@flwr-ts/core";
import type { DataSpec, WireTensor, WorkerRequest, WorkerResponse } from "./worker-protocol.js";

/** The authexample's run config (its package.json `flwr.app.config`), the app's defaults here. */
export const AUTHEXAMPLE_RUN_CONFIG = {
  "num-server-rounds": 3n,
  "fraction-evaluate": 0.5,
  "local-epochs": 1n,
  "learning-rate": 0.1,
  "batch-size": 32n,
} as const;

/** Training progress of one call. */
export interface TrainingProgress {
  readonly seen: number;
  readonly total: number;
  readonly epoch: number;
  readonly epochs: number;
  readonly loss: number;
}

type TrainRequest = Extract<WorkerRequest, { type: "train" }>;
type EvaluateRequest = Extract<WorkerRequest, { type: "evaluate" }>;
type Done = Extract<WorkerResponse, { type: "trained" } | { type: "evaluated" }>;

/** The page's side of the training worker. */
export class TrainingWorker {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (r: Done) => void; reject: (e: Error) => void }
  >();
  /** Resolves with the tfjs backend once the worker is ready. */
  readonly ready: Promise<string>;
  /** Called after every batch. */
  onProgress: ((p: TrainingProgress) => void) | undefined;

  constructor(private readonly worker: Worker) {
    let ready!: (backend: string) => void;
    this.ready = new Promise((resolve) => {
      ready = resolve;
    });
    worker.onmessage = (event: MessageEvent<WorkerResponse>) => {
      const msg = event.data;
      if (msg.type === "ready") return ready(msg.backend);
      if (msg.type === "progress") return this.onProgress?.(msg);
      const waiter = this.pending.get(msg.id);
      if (!waiter) return;
      this.pending.delete(msg.id);
      if (msg.type === "failed") waiter.reject(new Error(msg.error));
      else waiter.resolve(msg);
    };
    worker.onerror = (event) => {
      const error = new Error(`training worker failed: ${event.message}`);
      for (const w of this.pending.values()) w.reject(error);
      this.pending.clear();
    };
  }

  /** Sends one request; resolves with its answer. */
  request(req: Omit<TrainRequest, "id">): Promise<Extract<Done, { type: "trained" }>>;
  request(req: Omit<EvaluateRequest, "id">): Promise<Extract<Done, { type: "evaluated" }>>;
  request(req: Omit<TrainRequest, "id"> | Omit<EvaluateRequest, "id">): Promise<Done> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const full = { ...req, id } as WorkerRequest;
      this.worker.postMessage(
        full,
        full.weights.map((w) => w.data.buffer as ArrayBuffer),
      );
    });
  }
}

function tensorsOf(msg: Message): WireTensor[] {
  const arrays = msg.content.get("arrays");
  if (!(arrays instanceof ArrayRecord))
    throw new TypeError('the message has no ArrayRecord under "arrays"');
  return [...arrays].map(([name, a]) => ({
    name,
    shape: [...a.shape],
    data: Float32Array.from(a.toTypedArray("float32")),
  }));
}

function positiveInt(config: Context["runConfig"], key: string): number {
  const v = config[key];
  const n = typeof v === "bigint" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1)
    throw new TypeError(`run config '${key}' must be a positive integer, got ${String(v)}`);
  return n;
}

/** Results of the last train / evaluate, for the page. */
export interface LastMetrics {
  trainLoss?: number;
  evalLoss?: number;
  evalAccuracy?: number;
  imagesPerSecond?: number;
}

/** The built-in ClientApp over `worker`, training on `data`. */
export function createWorkerClientApp(
  worker: TrainingWorker,
  data: DataSpec,
  onMetrics: (m: LastMetrics) => void,
): ClientApp {
  const app = new ClientApp();
  const last: LastMetrics = {};
  app.train()(async (msg: Message, context: Context) => {
    const config = msg.content.get("config");
    const lrValue =
      config instanceof ConfigRecord && config.has("lr")
        ? config.get("lr")
        : context.runConfig["learning-rate"];
    const learningRate = typeof lrValue === "bigint" ? Number(lrValue) : Number(lrValue);
    if (!(learningRate > 0 && learningRate <= 10))
      throw new TypeError(`learning rate must be in (0, 10], got ${String(lrValue)}`);
    const res = await worker.request({
      type: "train",
      weights: tensorsOf(msg),
      epochs: positiveInt(context.runConfig, "local-epochs"),
      batchSize: positiveInt(context.runConfig, "batch-size"),
      learningRate,
      data,
    });
    const arrays = new ArrayRecord();
    for (const t of res.weights) arrays.set(t.name, NdArray.fromTypedArray(t.data, t.shape));
    last.trainLoss = res.loss;
    last.imagesPerSecond = res.imagesPerSecond;
    onMetrics({ ...last });
    const metrics = new MetricRecord({ train_loss: res.loss, "num-examples": BigInt(res.count) });
    return new Message(new RecordDict({ arrays, metrics }), { replyTo: msg });
  });
  app.evaluate()(async (msg: Message) => {
    const res = await worker.request({ type: "evaluate", weights: tensorsOf(msg), data });
    last.evalLoss = res.loss;
    last.evalAccuracy = res.accuracy;
    onMetrics({ ...last });
    const metrics = new MetricRecord({
      eval_loss: res.loss,
      eval_acc: res.accuracy,
      "num-examples": BigInt(res.count),
    });
    return new Message(new RecordDict({ metrics }), { replyTo: msg });
  });
  return app;
}
