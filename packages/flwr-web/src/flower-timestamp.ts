/**
 * The `flwr-timestamp` value a SuperNode signs: UTC as Python's `datetime.isoformat()` prints it,
 * `YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00` (the fraction only when non-zero). The same rule as
 * `@flwr-ts/crypto`'s `formatFlowerTimestamp` (a unit test checks both agree), written again here
 * because that package's entry point loads `node:crypto`.
 */

const pad = (n: number, width: number): string => String(n).padStart(width, "0");

/**
 * Formats epoch microseconds.
 * @throws RangeError for a non-integer.
 */
export function formatFlowerTimestamp(epochMicros: number): string {
  if (!Number.isSafeInteger(epochMicros)) throw new RangeError("epochMicros must be an integer");
  const micros = ((epochMicros % 1_000_000) + 1_000_000) % 1_000_000;
  const d = new Date((epochMicros - micros) / 1000);
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
  const time = `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  return `${date}T${time}${micros === 0 ? "" : `.${pad(micros, 6)}`}+00:00`;
}
