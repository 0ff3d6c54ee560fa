/**
 * Base class of the ordered, validated record maps (`ArrayRecord`, `MetricRecord`,
 * `ConfigRecord`, `RecordDict`).
 */
import { RecordValueError } from "./errors.js";
import { checkWellFormed } from "./scalar.js";

/** Initial entries of a record: a plain object (insertion order) or an iterable of pairs. */
export type RecordInit<V> = Iterable<readonly [string, V]> | Readonly<Record<string, V>>;

/**
 * An insertion-ordered `Map<string, V>` whose `set` validates every entry.
 *
 * Keys must be strings. As with a Python `dict`, re-setting an existing key keeps its position.
 * Note that a plain-object initializer lists integer-like keys (`"0"`, `"1"`) first, as
 * JavaScript orders them; pass an array of pairs to control the order of such keys.
 */
export abstract class RecordMap<V> extends Map<string, V> {
  /** @param init - initial entries, validated one by one. */
  constructor(init?: RecordInit<V>) {
    super();
    if (init === undefined || init === null) return;
    const entries =
      typeof (init as Iterable<unknown>)[Symbol.iterator] === "function"
        ? (init as Iterable<readonly [string, V]>)
        : Object.entries(init as Record<string, V>);
    for (const entry of entries) {
      if (!Array.isArray(entry) || entry.length !== 2) {
        throw new RecordValueError(`${new.target.name} entries must be [key, value] pairs`);
      }
      this.set(entry[0], entry[1]);
    }
  }

  /** Validates a value for this record type and returns what to store. */
  protected abstract check(key: string, value: V): V;

  /**
   * Adds or replaces an entry after validating it.
   * @throws RecordValueError when the key is not a string or the value is not allowed.
   */
  override set(key: string, value: V): this {
    if (typeof key !== "string") {
      throw new RecordValueError(
        `${this.constructor.name} keys must be strings, got ${typeof key}`,
      );
    }
    checkWellFormed(key, "record key", key);
    return super.set(key, this.check(key, value));
  }
}
