/** Errors raised by strategies. */

/**
 * Reply messages cannot be aggregated together (Python `InconsistentMessageReplies`): a reply
 * lacks the single ArrayRecord/MetricRecord, keys differ between replies, the weight key is
 * missing or not a scalar, or arrays disagree in dtype/shape.
 */
export class InconsistentMessageRepliesError extends Error {
  override name = "InconsistentMessageReplies";
}
