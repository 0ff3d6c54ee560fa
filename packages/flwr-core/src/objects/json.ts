/**
 * JSON as Python's `json.dumps` writes it by default (`", "` and `": "` separators, insertion
 * order, `ensure_ascii=True` escaping), and an order-preserving parser.
 *
 * Object bodies of `Array`, `ArrayRecord` and `RecordDict` are JSON; their object IDs hash these
 * bytes, so matching Python's formatting exactly is what makes IDs byte-identical.
 * `JSON.parse` is not used for objects because it moves integer-like keys (`"0"`, `"1"`) to the
 * front, which would change a record's order.
 */

/** A JSON value; objects are `Map`s so that key order is explicit. */
export type JsonValue = string | number | boolean | null | JsonValue[] | Map<string, JsonValue>;

/** The JSON text is malformed or nested too deeply. */
export class JsonFormatError extends Error {
  /** @param message - what is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "JsonFormatError";
  }
}

const SHORT_ESCAPES: Record<number, string> = {
  34: '\\"',
  92: "\\\\",
  10: "\\n",
  13: "\\r",
  9: "\\t",
  8: "\\b",
  12: "\\f",
};

/** Python `json.dumps(s)` of a string (ASCII-only output; non-ASCII as lowercase `\uXXXX`). */
export function pyJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const short = SHORT_ESCAPES[c];
    if (short !== undefined) out += short;
    else if (c < 0x20 || c > 0x7e) {
      out += `\\u${c.toString(16).padStart(4, "0")}`;
    } else out += s[i];
  }
  return `${out}"`;
}

/** Python `json.dumps(value)` with default options. Numbers must be integers. */
export function pyJsonDumps(value: JsonValue): string {
  if (typeof value === "string") return pyJsonString(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value))
      throw new JsonFormatError(`cannot write non-integer number ${value}`);
    return String(value);
  }
  if (typeof value === "boolean") return value ? "true" : "false";
  if (value === null) return "null";
  if (Array.isArray(value)) return `[${value.map(pyJsonDumps).join(", ")}]`;
  const parts: string[] = [];
  for (const [k, v] of value) parts.push(`${pyJsonString(k)}: ${pyJsonDumps(v)}`);
  return `{${parts.join(", ")}}`;
}

const MAX_DEPTH = 32;

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  private ws(): void {
    for (;;) {
      const c = this.s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else return;
    }
  }

  private fail(what: string): never {
    throw new JsonFormatError(`invalid JSON at offset ${this.i}: ${what}`);
  }

  parseDocument(): JsonValue {
    const v = this.value(0);
    this.ws();
    if (this.i !== this.s.length) this.fail("trailing characters");
    return v;
  }

  private value(depth: number): JsonValue {
    if (depth > MAX_DEPTH) this.fail("nested too deeply");
    this.ws();
    const c = this.s[this.i];
    if (c === "{") return this.object(depth);
    if (c === "[") return this.array(depth);
    if (c === '"') return this.string();
    if (c === "t" && this.s.startsWith("true", this.i)) return this.lit(4, true);
    if (c === "f" && this.s.startsWith("false", this.i)) return this.lit(5, false);
    if (c === "n" && this.s.startsWith("null", this.i)) return this.lit(4, null);
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(
      this.s.slice(this.i, this.i + 400),
    );
    if (!m) this.fail("unexpected character");
    this.i += m[0].length;
    return Number(m[0]);
  }

  private lit<T extends JsonValue>(n: number, v: T): T {
    this.i += n;
    return v;
  }

  private string(): string {
    const start = this.i;
    this.i++;
    for (;;) {
      if (this.i >= this.s.length) this.fail("unterminated string");
      const c = this.s.charCodeAt(this.i);
      if (c === 0x22) break;
      if (c === 0x5c) this.i += 2;
      else if (c < 0x20) this.fail("control character in string");
      else this.i++;
    }
    this.i++;
    try {
      return JSON.parse(this.s.slice(start, this.i)) as string;
    } catch {
      return this.fail("bad escape in string");
    }
  }

  private array(depth: number): JsonValue[] {
    this.i++;
    const out: JsonValue[] = [];
    this.ws();
    if (this.s[this.i] === "]") {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.i++];
      if (c === "]") return out;
      if (c !== ",") this.fail("expected ',' or ']'");
    }
  }

  private object(depth: number): Map<string, JsonValue> {
    this.i++;
    const out = new Map<string, JsonValue>();
    this.ws();
    if (this.s[this.i] === "}") {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail("expected a string key");
      const k = this.string();
      this.ws();
      if (this.s[this.i++] !== ":") this.fail("expected ':'");
      out.set(k, this.value(depth + 1));
      this.ws();
      const c = this.s[this.i++];
      if (c === "}") return out;
      if (c !== ",") this.fail("expected ',' or '}'");
    }
  }
}

/** Parses JSON text; objects become insertion-ordered `Map`s (a repeated key keeps its first position and last value, like Python). */
export function parseJson(text: string): JsonValue {
  return new Parser(text).parseDocument();
}
