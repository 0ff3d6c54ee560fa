/** Errors raised by strategies. */

/**
 * Reply messages cannot be aggregated together (Python `InconsistentMessageReplies`): a reply
 * lacks the single ArrayRecord/MetricRecord, keys differ between replies, the weight key is
 * missing or not a scalar, or arrays disagree in dtype/shape.
 */
export class InconsistentMessageRepliesError extends Error {
  override name = "InconsistentMessageReplies";
}

/** Aggregation failed (Python `AggregationError`), e.g. a stateful strategy aggregated before `configureTrain`. */
export class AggregationError extends Error {
  override name = "AggregationError";
}
