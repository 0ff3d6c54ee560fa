/**
 * Public API of @flwr-ts/ml: the seed's CIFAR-10 CNN in TensorFlow.js with
 * fast training kernels, PyTorch-compatible weights, and CIFAR-10 preparation.
 */

export { fromArrayRecord, toArrayRecord } from "./array-record.js";
export {
  BACKEND_ENV,
  type BackendChoice,
  type BackendInfo,
  BackendSelectionError,
  type InitBackendOptions,
  initBackend,
  parseBackendChoice,
} from "./backend.js";
export { Cifar10Error } from "./cifar10/errors.js";
export {
  HEADER_FILE,
  type LoadedPartition,
  type LoadPartitionOptions,
  loadPartition,
  PARTITION_FORMAT,
  PARTITION_FORMAT_VERSION,
  type PartitionHeader,
  type SaveMeta,
  type SplitHeader,
  savePartition,
} from "./cifar10/format.js";
export {
  CIFAR10_CLASSES,
  CIFAR10_MD5,
  CIFAR10_URL,
  type Cifar10,
  type ParseArchiveOptions,
  parseCifar10Archive,
  parseCifar10Stream,
  readCifar10Archive,
} from "./cifar10/parse.js";
export { type Partition, type PartitionOptions, partitionDataset } from "./cifar10/partition.js";
export {
  type Cifar10Source,
  type PrepareCifar10Options,
  type PreparedDataset,
  partitionDirName,
  prepareCifar10,
} from "./cifar10/prepare.js";
export { type SyntheticOptions, syntheticCifar10 } from "./cifar10/synthetic.js";
export { type CliIo, runPrepareDataset } from "./cli/prepare-dataset.js";
export {
  BatchBuilder,
  DatasetError,
  type ImageDataset,
  normalizePixel,
  permutation,
  seededRandom,
  validateDataset,
} from "./dataset.js";
export { type TestOptions, type TestResult, test, testAsync } from "./evaluate.js";
export { UnsupportedKernelConfigError } from "./kernels/errors.js";
export { type PatchedBackendName, registerTrainingKernels } from "./kernels/register.js";
export {
  getModelWeights,
  type ModelWeightsOptions,
  modelFromArrayRecord,
  modelRecordLayout,
  modelToArrayRecord,
  type WeightNaming,
} from "./model/model-array-record.js";
export type { FeatureDataset, ModelDataset } from "./model/model-dataset.js";
export { type ModelOutput, modelOutputOf } from "./model/model-loss.js";
export {
  type ModelTestOptions,
  type ModelTrainOptions,
  testModel,
  testModelAsync,
  trainModel,
  trainModelAsync,
} from "./model/model-train.js";
export type { RecordEntry } from "./model/weight-mapping.js";
export {
  nativeUnavailableReason,
  netTrainingEngine,
} from "./native-net-step.js";
export {
  type CreateNetOptions,
  createNet,
  NET_INPUT_SHAPE,
  NET_NUM_CLASSES,
  NET_PARAMETERS,
  Net,
  type NetParameterName,
} from "./net.js";
export {
  parallelBackend,
  resolveWorkers,
  WORKERS_ENV,
} from "./parallel/data-parallel.js";
export { closeTrainingWorkers, TrainingWorkerError } from "./parallel/worker-pool.js";
export { ProgressBar } from "./progress.js";
export { type NamedTensor, SgdMomentumOptimizer } from "./sgd-momentum.js";
/** The TensorFlow.js instance this package uses (one shared engine and backend registry). */
export * as tf from "./tf.js";
export {
  crossEntropy,
  TrainingOptionsError,
  type TrainOptions,
  type TrainProgress,
  train,
  trainAsync,
} from "./train.js";
export {
  getWeights,
  type NetWeights,
  setWeights,
  tfToTorch,
  torchToTf,
  WeightsError,
  type WeightTensor,
} from "./weights.js";
