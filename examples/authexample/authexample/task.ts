/**
 * The model, the data and the training loops of the example — the TypeScript counterpart of
 * the seed's `authexample/task.py`: Flower's CIFAR-10 CNN (`Net`) in TensorFlow.js, loaded and
 * saved in PyTorch `state_dict` names and layouts, so the weights this app produces load
 * straight into the Python example's torch `Net`.
 */
import { ArrayRecord, NdArray } from "@flwr-ts/core";
import {
  createNet,
  getWeights,
  type ImageDataset,
  initBackend,
  loadPartition,
  type Net,
  partitionDataset,
  setWeights,
  syntheticCifar10,
  testAsync,
  trainAsync,
  type WeightTensor,
} from "@flwr-ts/ml";

export type { Net } from "@flwr-ts/ml";

/**
 * A new `Net` with PyTorch's default initialisation. Selects the TensorFlow.js backend on
 * first use (tfjs-node, else wasm with flwr-ml's kernels, else cpu; `FLWR_TFJS_BACKEND`
 * overrides) and logs the choice once.
 */
export async function newNet(): Promise<Net> {
  await initBackend();
  return createNet();
}

/** The model's parameters as an ArrayRecord keyed by PyTorch `state_dict` name (float32). */
export function netToArrays(net: Net): ArrayRecord {
  const record = new ArrayRecord();
  for (const [name, w] of getWeights(net)) {
    record.set(name, NdArray.fromTypedArray(w.data, w.shape));
  }
  return record;
}

/**
 * Loads an ArrayRecord (PyTorch `state_dict` names and layouts, as a Python ServerApp sends
 * them) into `net`.
 * @throws WeightsError (from @flwr-ts/ml) when keys or shapes do not match the Net.
 */
export function arraysToNet(net: Net, arrays: ArrayRecord): void {
  const weights = new Map<string, WeightTensor>();
  for (const [name, array] of arrays) {
    weights.set(name, { shape: [...array.shape], data: array.toTypedArray("float32") });
  }
  setWeights(net, weights);
}

/** A node's partition: its train and test images. */
export interface NodeData {
  /** Training images. */
  train: ImageDataset;
  /** Held-out images. */
  test: ImageDataset;
  /** True when the partition is the synthetic stand-in for CIFAR-10. */
  synthetic: boolean;
}

const cache = new Map<string, Promise<NodeData>>();

/**
 * Loads the partition prepared under `datasetPath` (`flwr-ts-prepare-dataset`, the seed's
 * `prepare_dataset.py`). Loaded once per process: a reused ClientApp process does not read the
 * files again.
 * @throws Cifar10Error (from @flwr-ts/ml) when the directory is not a prepared partition.
 */
export function loadData(datasetPath: string): Promise<NodeData> {
  let data = cache.get(datasetPath);
  if (!data) {
    data = loadPartition(datasetPath).then((p) => ({
      train: p.train,
      test: p.test,
      synthetic: p.header.synthetic,
    }));
    data.catch(() => cache.delete(datasetPath));
    cache.set(datasetPath, data);
  }
  return data;
}

/** Share of a simulated partition held out for evaluation (as `flwr-ts-prepare-dataset`). */
export const SIMULATION_TEST_FRACTION = 0.2;

/**
 * The partition of a virtual SuperNode in simulation (`flwr run . local-simulation`), where
 * the node config carries Flower's `partition-id` and `num-partitions` instead of a
 * `dataset-path`: `size` images of the synthetic CIFAR-10 stand-in, drawn with a seed of the
 * partition id, so each partition holds different images of the same task and a node gets the
 * same partition every round. Generated on demand and not cached: a worker thread runs many
 * virtual nodes, and memory must not grow with their number (100 images take a few ms).
 */
export function simulationData(partitionId: number, size: number): NodeData {
  const data = syntheticCifar10({ count: size, seed: 0x5117 + partitionId });
  const [part] = partitionDataset(data, {
    numPartitions: 1,
    testFraction: SIMULATION_TEST_FRACTION,
  });
  if (part === undefined) throw new Error("partitionDataset returned no partition");
  return { train: part.train, test: part.test, synthetic: true };
}

/** Hyper-parameters of {@link train}. */
export interface TrainSettings {
  /** Local epochs. */
  epochs: number;
  /** SGD learning rate. */
  learningRate: number;
  /** Batch size. */
  batchSize: number;
}

/**
 * Trains `net` on `data` with SGD (momentum 0.9) and cross-entropy, as the seed does. Yields to
 * the event loop while training, so the ClientApp process keeps sending its heartbeats.
 * @returns the mean training loss.
 */
export function train(net: Net, data: ImageDataset, settings: TrainSettings): Promise<number> {
  return trainAsync(net, data, {
    epochs: settings.epochs,
    learningRate: settings.learningRate,
    momentum: 0.9,
    batchSize: settings.batchSize,
  });
}

/**
 * Evaluates `net` on `data` (yielding to the event loop, as {@link train}).
 * @returns the mean cross-entropy loss and the accuracy.
 */
export async function test(
  net: Net,
  data: ImageDataset,
): Promise<{ loss: number; accuracy: number }> {
  const { loss, accuracy } = await testAsync(net, data);
  return { loss, accuracy };
}
