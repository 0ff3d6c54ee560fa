/**
 * The `flwr-timestamp` value: UTC time as Python's `datetime.isoformat()`
 * prints it, parsed back the way `datetime.fromisoformat()` (Python 3.11)
 * reads the forms Flower peers send.
 *
 * Times are integers of microseconds since the Unix epoch, Python's resolution
 * (exact as JavaScript numbers for years 1685–2255).
 */

const pad = (n: number, width: number): string => String(n).padStart(width, "0");

/**
 * Formats a UTC instant like Python's
 * `datetime.datetime.now(tz=datetime.timezone.utc).isoformat()`:
 * `YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00`, with the six-digit fraction printed
 * only when the microseconds are non-zero.
 * @param epochMicros - integer microseconds since the Unix epoch (years 1–9999).
 */
export function formatFlowerTimestamp(epochMicros: number): string {
  if (!Number.isSafeInteger(epochMicros)) throw new RangeError("epochMicros must be an integer");
  const micros = ((epochMicros % 1_000_000) + 1_000_000) % 1_000_000;
  const d = new Date((epochMicros - micros) / 1000);
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
  const time = `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  return `${date}T${time}${micros === 0 ? "" : `.${pad(micros, 6)}`}+00:00`;
}

const TIMESTAMP_RE =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:(Z)|([+-])(\d{2}):?(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)$/;

function fraction(digits: string | undefined): number {
  return digits ? Number(digits.slice(0, 6).padEnd(6, "0")) : 0;
}

/**
 * Parses an ISO 8601 timestamp with a UTC offset, as Python 3.11's
 * `datetime.fromisoformat()` does for the extended forms:
 * `YYYY-MM-DD[T ]HH:MM[:SS[.f…]]` followed by `Z`, `±HH:MM`, `±HHMM` or
 * `±HH:MM:SS[.ffffff]`. A fraction of any length is truncated to
 * microseconds. Timestamps without an offset are rejected (Flower cannot
 * compare them with its aware clock), as are out-of-range fields.
 * @param text - the timestamp.
 * @returns microseconds since the Unix epoch, or undefined when malformed.
 */
export function parseFlowerTimestamp(text: string): number | undefined {
  const m = TIMESTAMP_RE.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const second = m[6] ? Number(m[6]) : 0;
  if (year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59)
    return undefined;
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  if (d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return undefined;
  d.setUTCHours(hour, minute, second, 0);
  let offsetMicros = 0;
  if (!m[8]) {
    const offH = Number(m[10]);
    const offM = Number(m[11]);
    const offS = m[12] ? Number(m[12]) : 0;
    if (offH > 23 || offM > 59 || offS > 59) return undefined;
    offsetMicros =
      (m[9] === "-" ? -1 : 1) * ((offH * 3600 + offM * 60 + offS) * 1_000_000 + fraction(m[13]));
  }
  const micros = d.getTime() * 1000 + fraction(m[7]) - offsetMicros;
  return Number.isSafeInteger(micros) ? micros : undefined;
}
