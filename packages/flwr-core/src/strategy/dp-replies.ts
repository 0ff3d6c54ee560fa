/**
 * Flower's reply validation of the DP wrappers (`validate_replies` in
 * `flwr/serverapp/strategy/dp_fixed_clipping.py`) and the record keys they share with the DP mods
 * (`flwr/common/differential_privacy_constants.py`).
 */
import type { Message } from "../message/message.js";
import { pyStrRepr } from "./py-format.js";

/** The ConfigRecord key carrying the clipping norm to the nodes (Flower's `KEY_CLIPPING_NORM`). */
export const KEY_CLIPPING_NORM = "clipping_norm";
/** The MetricRecord key of a node's norm bit (Flower's `KEY_NORM_BIT`). */
export const KEY_NORM_BIT = "norm_bit";

/** Flower's `CLIENTS_DISCREPANCY_WARNING`. */
export function clientsDiscrepancyWarning(received: number, sampled: number): string {
  return (
    `The number of clients returning parameters (${received}) differs from the number of ` +
    `sampled clients (${sampled}). This could impact the differential privacy guarantees, ` +
    "potentially leading to privacy leakage or inadequate noise calibration."
  );
}

/** Python's `repr(msg.error)`: `Error(code=0, reason='…')`. */
function errorRepr(message: Message): string {
  const { code, reason } = message.error;
  return `Error(code=${code}, reason=${reason === undefined ? "None" : pyStrRepr(reason)})`;
}

/**
 * Flower's `validate_replies`: logs each error reply and refuses aggregation when there is one;
 * warns when fewer (or more) replies than sampled nodes carry content.
 * @returns true when the replies may be aggregated.
 */
export function validateDpReplies(
  replies: readonly Message[],
  numSampledClients: number,
  log: (level: "INFO" | "WARNING", message: string) => void,
): boolean {
  let errors = 0;
  let withContent = 0;
  for (const reply of replies) {
    if (reply.hasError()) {
      log(
        "INFO",
        `Received error in reply from node ${reply.metadata.srcNodeId}: ${errorRepr(reply)}`,
      );
      errors += 1;
    } else withContent += 1;
  }
  if (errors > 0) {
    log("INFO", "aggregate_train: Some clients reported errors. Skipping aggregation.");
    return false;
  }
  log("INFO", `aggregate_train: Received ${withContent} results and ${errors} failures`);
  if (withContent !== numSampledClients)
    log("WARNING", clientsDiscrepancyWarning(withContent, numSampledClients));
  return true;
}
