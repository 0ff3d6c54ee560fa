/**
 * Public API of @flwr-ts/core: Flower records, messages and content-addressed objects.
 *
 * Integer/float rule: a `bigint` is an integer (protobuf sint64, or uint64 above 2^63-1) and a
 * `number` is a float (double), in records, config scalars and user configs alike; decoding
 * returns `bigint` for integers and `number` for floats. See `records/scalar.ts`.
 *
 * Generated protobuf types live in the `@flwr-ts/core/proto` subpath.
 */

// Apps
export {
  ClientApp,
  type ClientAppHandler,
  type ClientAppOptions,
  DEFAULT_ACTION,
  type HandlerOptions,
} from "./app/client-app.js";
export {
  AppError,
  ClientAppRoutingError,
  formatExceptionReason,
} from "./app/errors.js";
export {
  consoleLogger,
  formatJsonLogLine,
  formatLogEntry,
  formatLogLine,
  LOG_FORMAT_ENV,
  LOG_FORMATS,
  type LogFormat,
  type Logger,
  type LogLevel,
  logFormatFromEnv,
  MemoryLogger,
} from "./app/logger.js";
export { type ClientAppCallable, type Mod, wrapWithMods } from "./app/mod.js";
export {
  adaptiveClippingMod,
  createAdaptiveClippingMod,
  createFixedClippingMod,
  type DpModOptions,
  fixedClippingMod,
  LocalDpMod,
  type LocalDpModOptions,
} from "./app/mods/dp-mods.js";
export { SecAggPlusError, secAggPlusMod } from "./app/mods/secaggplus-mod.js";
export { type AnyFn, makeRegistrar, type Registrar } from "./app/registrar.js";
export { ServerApp, type ServerAppMain } from "./app/server-app.js";
// App config (package.json "flwr.app") and run config
export {
  type AppConfig,
  AppConfigError,
  appNameProblem,
  type ComponentRef,
  type ConfigTree,
  flattenConfigTree,
  jsonConfigValue,
  loadAppConfig,
  MAX_APP_NAME_LENGTH,
  parseAppConfig,
  parseComponentRef,
} from "./config/app-config.js";
// Config (federations, key=value config strings)
export * from "./config/index.js";
export {
  fuseConfig,
  type ParseRunConfigOptions,
  parseRunConfigArgs,
  resolveRunConfig,
  UnknownConfigKeyError,
} from "./config/run-config.js";
export {
  type AdaptiveNoiseParams,
  addGaussianNoiseInPlace,
  clipInPlace,
  clipModelUpdate,
  computeAdaptiveNoiseParams,
  computeStdv,
  getNorm,
  localDpStdv,
  type NormalSource,
  secureNormalSource,
  seededNormalSource,
} from "./dp/differential-privacy.js";
// FAB (Flower App Bundle)
export {
  type BuildFabOptions,
  type BuiltFab,
  buildFab,
  FAB_CONTENT_PATH,
  sha256Hex,
} from "./fab/build.js";
export { FabError, type FabErrorCode } from "./fab/errors.js";
export {
  FAB_EXCLUDE_PATTERNS,
  FAB_INCLUDE_PATTERNS,
  listFiles,
  MAX_DIR_DEPTH,
  type SelectOptions,
  selectFabFiles,
} from "./fab/fab-files.js";
export {
  FAB_HASH_TRUNCATION,
  FAB_MAX_SIZE,
  fabFileName,
  fabIdOf,
  fabInstallDirName,
  parseFabId,
} from "./fab/fab-id.js";
export { PathSpec } from "./fab/path-spec.js";
export { generatePyproject, tomlStringify } from "./fab/pyproject.js";
export {
  type FabContents,
  pyprojectProblems,
  type ReadFabOptions,
  readFab,
  readFabAsync,
  verifyFab,
} from "./fab/read.js";
export {
  FAB_DATE,
  FAB_MAX_ENTRY_BYTES,
  FAB_MAX_UNPACKED_BYTES,
  readZip,
  readZipAsync,
  writeZip,
  type ZipDateTime,
  type ZipEntry,
} from "./fab/zip.js";
// Grid
export {
  type Grid,
  InvalidInstructionError,
  type SendAndReceiveOptions,
  SUPERLINK_NODE_ID,
  stampInstruction,
} from "./grid/grid.js";
export {
  InMemoryGrid,
  type InMemoryGridOptions,
  type InMemoryNodeSpec,
  MESSAGE_UNAVAILABLE_ERROR_REASON,
  NODE_UNAVAILABLE_ERROR_REASON,
} from "./grid/in-memory-grid.js";
// Messages
export { Context, type ContextInit, type UserConfig } from "./message/context.js";
export { ErrorCode, MessageError } from "./message/error.js";
export { MessageValidationError } from "./message/errors.js";
export {
  type InstructionOptions,
  limitReplyTtl,
  MESSAGE_TTL_TOLERANCE,
  Message,
  type ReplyOptions,
} from "./message/message.js";
export { isValidMessageType, MessageType } from "./message/message-type.js";
export { DEFAULT_TTL, Metadata, type MetadataInit } from "./message/metadata.js";
export {
  contextFromProto,
  contextToProto,
  errorFromProto,
  errorToProto,
  messageFromProto,
  messageToProto,
  metadataFromProto,
  metadataToProto,
  userConfigFromProto,
  userConfigToProto,
} from "./message/serde.js";
// Content-addressed objects
export {
  CHUNK_SIZE_ENV,
  DEFAULT_MAX_ARRAY_CHUNK_SIZE,
  maxArrayChunkSize,
} from "./objects/chunk-size.js";
export {
  type DeflatedMessage,
  type DeflatedObject,
  type DeflateOptions,
  deflateLazy,
  deflateMessage,
  deflateMessageLazy,
  type Inflatable,
  type LazyDeflatedMessage,
  type LazyDeflateResult,
  objectIdOfInflatable,
} from "./objects/deflate.js";
export {
  InvalidObjectContentError,
  MalformedObjectHeadError,
  MissingObjectError,
  ObjectBodyLengthError,
  ObjectError,
  ObjectIdMismatchError,
  UnknownObjectTypeError,
} from "./objects/errors.js";
export {
  type InflateOptions,
  inflateMessage,
  inflateObject,
  inflateRecordDict,
  verifyObject,
} from "./objects/inflate.js";
export {
  encodeObjectHead,
  OBJECT_TYPES,
  type ObjectHead,
  type ObjectType,
  parseObject,
} from "./objects/object-head.js";
export { isValidObjectId, objectIdOf } from "./objects/object-id.js";
export { iterateObjectTree, type ObjectTree, objectTreeIds } from "./objects/object-tree.js";
// Records
export {
  checkShape,
  MAX_DIMENSION,
  NdArray,
  type NdArrayInit,
  STYPE_NUMPY,
} from "./records/array.js";
export { ArrayRecord } from "./records/array-record.js";
export { ConfigRecord } from "./records/config-record.js";
export {
  DTYPES,
  type DType,
  type DTypeInfo,
  dtypeFromDescr,
  dtypeInfo,
  isDType,
  type NumericTypedArray,
  type TypedArrayOf,
} from "./records/dtype.js";
export {
  ArrayShapeError,
  type NpyErrorKind,
  NpyFormatError,
  RecordError,
  RecordValueError,
  UnsupportedDtypeError,
} from "./records/errors.js";
export { MetricRecord } from "./records/metric-record.js";
export {
  encodeNpy,
  encodeNpyHeader,
  type NpyHeader,
  parseNpy,
  parseNpyHeader,
  shapeRepr,
  shapeSize,
} from "./records/npy.js";
export { type AnyRecord, RecordDict } from "./records/record-dict.js";
export { type RecordInit, RecordMap } from "./records/record-map.js";
export {
  type ConfigValue,
  INT64_MAX,
  INT64_MIN,
  type MetricValue,
  type Scalar,
  UINT64_MAX,
} from "./records/scalar.js";
export {
  arrayFromProto,
  arrayRecordFromProto,
  arrayRecordToProto,
  arrayToProto,
  configRecordFromProto,
  configRecordToProto,
  metricRecordFromProto,
  metricRecordToProto,
  recordDictFromProto,
  recordDictToProto,
  scalarFromProto,
  scalarToProto,
} from "./records/serde.js";
export {
  SECAGGPLUS_CONFIGS_RECORD,
  SECAGGPLUS_STAGES,
  SECAGGPLUS_STATE_RECORD,
  SecAggPlusKey,
  SecAggPlusStage,
  type SecAggPlusStageName,
} from "./secagg/constants.js";
export { fernetDecrypt, fernetEncrypt, InvalidFernetTokenError } from "./secagg/fernet.js";
export {
  deriveSharedKey,
  generateSecAggKeyPair,
  type SecAggKeyPair,
} from "./secagg/key-agreement.js";
export {
  arrayToFloat64,
  LegacyFitError,
  type LegacyFitIns,
  type LegacyFitRes,
  legacyFitInsRecordDict,
  legacyFitResRecordDict,
  readLegacyFitIns,
  readLegacyFitRes,
} from "./secagg/legacy-fit.js";
export { pseudoRandGen } from "./secagg/prg.js";
export {
  SecAggPlusHaltedError,
  type SecAggPlusRoundResult,
  SecAggPlusWorkflow,
  type SecAggPlusWorkflowOptions,
} from "./secagg/secaggplus-workflow.js";
export { combineShares, createShares } from "./secagg/shamir.js";
// Simulation
export {
  type SimulateOptions,
  type SimulationResult,
  simulate,
} from "./simulation/simulate.js";
// Strategies
export {
  aggregateArrayRecords,
  aggregateMetricRecords,
  type MetricsAggregationFn,
  validateReplyConsistency,
  weightFactors,
} from "./strategy/aggregate.js";
export {
  aggregateNClosest,
  Bulyan,
  type BulyanOptions,
  type SelectionRule,
} from "./strategy/bulyan.js";
export {
  DifferentialPrivacyAdaptiveBase,
  DifferentialPrivacyClientSideAdaptiveClipping,
  DifferentialPrivacyServerSideAdaptiveClipping,
  type DpAdaptiveClippingOptions,
} from "./strategy/dp-adaptive-clipping.js";
export {
  DifferentialPrivacyClientSideFixedClipping,
  DifferentialPrivacyFixedClippingBase,
  DifferentialPrivacyServerSideFixedClipping,
  type DpFixedClippingOptions,
} from "./strategy/dp-fixed-clipping.js";
export {
  clientsDiscrepancyWarning,
  KEY_CLIPPING_NORM,
  KEY_NORM_BIT,
  validateDpReplies,
} from "./strategy/dp-replies.js";
export { DifferentialPrivacyWrapperBase, type DpWrapperOptions } from "./strategy/dp-wrapper.js";
export { AggregationError, InconsistentMessageRepliesError } from "./strategy/errors.js";
export { FedAdagrad, type FedAdagradOptions } from "./strategy/fedadagrad.js";
export { FedAdam, type FedAdamOptions } from "./strategy/fedadam.js";
export { FedAvg, type FedAvgOptions } from "./strategy/fedavg.js";
export { FedAvgM, type FedAvgMOptions } from "./strategy/fedavgm.js";
export { FedMedian } from "./strategy/fedmedian.js";
export { FedOpt, type FedOptOptions, type SecondMomentUpdate } from "./strategy/fedopt.js";
export { FedProx, type FedProxOptions } from "./strategy/fedprox.js";
export { FedTrimmedAvg, type FedTrimmedAvgOptions, trimMean } from "./strategy/fedtrimmedavg.js";
export { aggregateBagging, FedXgbBagging } from "./strategy/fedxgb-bagging.js";
export { FedYogi, type FedYogiOptions } from "./strategy/fedyogi.js";
export type { FloatArray, FloatArrays } from "./strategy/float-arrays.js";
export { Krum, type KrumOptions } from "./strategy/krum.js";
export {
  escapeHtml,
  lineChartSvg,
  type MetricChart,
  type MetricSeries,
  type MetricsPage,
  metricsChartHtml,
  metricsPageHtml,
  resultCharts,
} from "./strategy/metrics-chart.js";
export {
  computeDistances,
  MultiKrum,
  type MultiKrumOptions,
  selectMultikrum,
} from "./strategy/multikrum.js";
export { type PyJson, PyJsonError, pyJsonDumps, pyJsonLoads } from "./strategy/py-json.js";
export { QFedAvg, type QFedAvgOptions } from "./strategy/qfedavg.js";
export { Result } from "./strategy/result.js";
export { type SampleNodesOptions, sampleNodes } from "./strategy/sample-nodes.js";
export {
  type EvaluateFn,
  type StartOptions,
  Strategy,
  type StrategyOptions,
} from "./strategy/strategy.js";
