/** Message types and their validation (Python `flwr.app.MessageType` and `validate_message_type`). */

/** The standard message categories. */
export const MessageType = {
  /** Train the model locally (`@app.train()`). */
  TRAIN: "train",
  /** Evaluate the model locally (`@app.evaluate()`). */
  EVALUATE: "evaluate",
  /** Query the client (`@app.query()`). */
  QUERY: "query",
  /** System messages (e.g. synthesized errors from the SuperLink). */
  SYSTEM: "system",
} as const;

const CATEGORIES = new Set<string>(Object.values(MessageType));
const LEGACY = new Set(["get_parameters", "get_properties", "reconnect"]);
const IDENTIFIER = /^[\p{XID_Start}_][\p{XID_Continue}]*$/u;

/**
 * True when `messageType` is `<category>` or `<category>.<action>` (category one of train,
 * evaluate, query, system; action a Python identifier), or a legacy type
 * (`get_parameters`, `get_properties`, `reconnect`).
 */
export function isValidMessageType(messageType: string): boolean {
  if (typeof messageType !== "string") return false;
  if (LEGACY.has(messageType) || CATEGORIES.has(messageType)) return true;
  const parts = messageType.split(".");
  if (parts.length !== 2) return false;
  return CATEGORIES.has(parts[0]!) && IDENTIFIER.test(parts[1]!);
}
