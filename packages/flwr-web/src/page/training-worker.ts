/**
 * The page's training Web Worker: Flower's CIFAR-10 CNN (`@flwr-ts/ml`'s `Net`, PyTorch
 * `state_dict` names and layouts) on TensorFlow.js's `cpu` backend with flwr-ml's training
 * kernels, SGD with momentum 0.9 as the authexample's `task.ts`. Training runs synchronously in
 * this worker (the page stays responsive), reporting progress after every batch.
 */
import {
  createNet,
  getWeights,
  type ImageDataset,
  registerTrainingKernels,
  setWeights,
  syntheticCifar10,
  test,
  tf,
  train,
  type WeightTensor,
} from "@flwr-ts/ml";
import type { DataSpec, WireTensor, WorkerRequest, WorkerResponse } from "../worker-protocol.js";

interface WorkerScope {
  postMessage(message: WorkerResponse, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
}
const scope = self as unknown as WorkerScope;

const datasets = new Map<string, { train: ImageDataset; test: ImageDataset }>();

function dataOf(spec: DataSpec): { train: ImageDataset; test: ImageDataset } {
  const key = JSON.stringify(spec);
  let data = datasets.get(key);
  if (!data) {
    data = {
      train: syntheticCifar10({ count: spec.trainCount, seed: spec.seed }),
      test: syntheticCifar10({ count: spec.testCount, seed: spec.seed + 1_000_003 }),
    };
    datasets.set(key, data);
  }
  return data;
}

function toWeights(tensors: WireTensor[]): Map<string, WeightTensor> {
  return new Map(tensors.map((t) => [t.name, { shape: t.shape, data: t.data }]));
}

function fromWeights(weights: Map<string, WeightTensor>): WireTensor[] {
  return [...weights].map(([name, w]) => ({ name, shape: [...w.shape], data: w.data }));
}

const ready = (async () => {
  await tf.setBackend("cpu");
  await tf.ready();
  registerTrainingKernels("cpu");
  scope.postMessage({ type: "ready", backend: tf.getBackend() });
})();

scope.onmessage = (event) => {
  const req = event.data;
  void ready.then(() => {
    const net = createNet();
    try {
      setWeights(net, toWeights(req.weights));
      const data = dataOf(req.data);
      if (req.type === "train") {
        const t0 = performance.now();
        const loss = train(net, data.train, {
          epochs: req.epochs,
          batchSize: req.batchSize,
          learningRate: req.learningRate,
          workers: 1,
          progressBar: false,
          onProgress: (p) =>
            scope.postMessage({
              type: "progress",
              id: req.id,
              seen: p.seen,
              total: p.total,
              epoch: p.epoch,
              epochs: p.epochs,
              loss: p.loss,
            }),
        });
        const seconds = (performance.now() - t0) / 1000;
        const weights = fromWeights(getWeights(net));
        scope.postMessage(
          {
            type: "trained",
            id: req.id,
            weights,
            loss,
            count: data.train.count,
            imagesPerSecond: (data.train.count * req.epochs) / seconds,
          },
          weights.map((w) => w.data.buffer as ArrayBuffer),
        );
      } else {
        const r = test(net, data.test, { workers: 1, progressBar: false });
        scope.postMessage({
          type: "evaluated",
          id: req.id,
          loss: r.loss,
          accuracy: r.accuracy,
          count: r.count,
        });
      }
    } catch (error) {
      scope.postMessage({ type: "failed", id: req.id, error: String((error as Error).message) });
    } finally {
      net.dispose();
    }
  });
};
