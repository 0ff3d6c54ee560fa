/**
 * SecAgg+ protocol names, as Flower 1.29 spells them
 * (`flwr.common.secure_aggregation.secaggplus_constants`): the stage names, the keys of the
 * `secaggplus_configs` ConfigRecord that carries each stage, and the state record key.
 */

/** ConfigRecord (in the node's `Context.state`) holding the mod's protocol state. */
export const SECAGGPLUS_STATE_RECORD = "secaggplus_state";
/** ConfigRecord (in messages) carrying the protocol configs of a stage. */
export const SECAGGPLUS_CONFIGS_RECORD = "secaggplus_configs";

/** The four SecAgg+ stages, in protocol order. */
export const SecAggPlusStage = {
  SETUP: "setup",
  SHARE_KEYS: "share_keys",
  COLLECT_MASKED_VECTORS: "collect_masked_vectors",
  UNMASK: "unmask",
} as const;

/** A SecAgg+ stage name. */
export type SecAggPlusStageName = (typeof SecAggPlusStage)[keyof typeof SecAggPlusStage];

/** The stages in order (Flower's `Stage.all()`). */
export const SECAGGPLUS_STAGES: readonly SecAggPlusStageName[] = [
  SecAggPlusStage.SETUP,
  SecAggPlusStage.SHARE_KEYS,
  SecAggPlusStage.COLLECT_MASKED_VECTORS,
  SecAggPlusStage.UNMASK,
];

/** Keys of the `secaggplus_configs` ConfigRecord (Flower's `Key`). */
export const SecAggPlusKey = {
  STAGE: "stage",
  SAMPLE_NUMBER: "sample_num",
  SHARE_NUMBER: "share_num",
  THRESHOLD: "threshold",
  CLIPPING_RANGE: "clipping_range",
  TARGET_RANGE: "target_range",
  MOD_RANGE: "mod_range",
  MAX_WEIGHT: "max_weight",
  PUBLIC_KEY_1: "pk1",
  PUBLIC_KEY_2: "pk2",
  DESTINATION_LIST: "dsts",
  CIPHERTEXT_LIST: "ctxts",
  SOURCE_LIST: "srcs",
  PARAMETERS: "params",
  MASKED_PARAMETERS: "masked_params",
  ACTIVE_NODE_ID_LIST: "active_nids",
  DEAD_NODE_ID_LIST: "dead_nids",
  NODE_ID_LIST: "nids",
  SHARE_LIST: "shares",
} as const;
