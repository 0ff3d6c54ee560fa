/**
 * Python's `json.loads` / `json.dumps` (default arguments), byte for byte, for strategies that
 * rewrite JSON models Flower also rewrites (FedXgbBagging merges XGBoost JSON boosters): the
 * aggregated bytes must equal Python Flower's so that mixed federations hold the same model.
 *
 * Own code rather than `JSON.parse`/`JSON.stringify`: those lose the int/float distinction
 * (`1.0` would come back as `1`), reorder integer-like object keys, write no spaces after `,`
 * and `:`, keep non-ASCII characters (Python escapes them, `ensure_ascii=True`), and refuse
 * `NaN`/`Infinity`, which Python reads and writes. Here ints are `bigint`, floats `number`
 * (written with Python's `repr`), objects ordered `Map`s.
 */
import { pyFloatRepr } from "./py-format.js";

/** A JSON value as Python holds it. */
export type PyJson = null | boolean | bigint | number | string | PyJson[] | Map<string, PyJson>;

/** Malformed JSON (Python's `JSONDecodeError`). */
export class PyJsonError extends Error {
  constructor(message: string, at: number) {
    super(`${message} (at character ${at})`);
    this.name = "PyJsonError";
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y;
const WS = /[ \t\n\r]*/y;

/**
 * Parses `text` as Python's `json.loads` does: ints (no fraction or exponent) as bigint, other
 * numbers as float, `NaN`/`Infinity`/`-Infinity` accepted, a repeated key keeps its first
 * position and its last value.
 * @throws PyJsonError on malformed input or trailing data.
 */
export function pyJsonLoads(text: string): PyJson {
  let i = 0;
  const skip = () => {
    WS.lastIndex = i;
    WS.exec(text);
    i = WS.lastIndex;
  };
  const value = (): PyJson => {
    skip();
    const c = text[i];
    if (c === "{") {
      i++;
      const out = new Map<string, PyJson>();
      skip();
      if (text[i] === "}") {
        i++;
        return out;
      }
      for (;;) {
        skip();
        if (text[i] !== '"') throw new PyJsonError("Expecting property name", i);
        const key = string();
        skip();
        if (text[i] !== ":") throw new PyJsonError("Expecting ':' delimiter", i);
        i++;
        out.set(key, value());
        skip();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return out;
        }
        throw new PyJsonError("Expecting ',' delimiter", i);
      }
    }
    if (c === "[") {
      i++;
      const out: PyJson[] = [];
      skip();
      if (text[i] === "]") {
        i++;
        return out;
      }
      for (;;) {
        out.push(value());
        skip();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return out;
        }
        throw new PyJsonError("Expecting ',' delimiter", i);
      }
    }
    if (c === '"') return string();
    for (const [word, v] of [
      ["null", null],
      ["true", true],
      ["false", false],
      ["NaN", Number.NaN],
      ["Infinity", Number.POSITIVE_INFINITY],
      ["-Infinity", Number.NEGATIVE_INFINITY],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m) {
      i = NUMBER.lastIndex;
      return m[1] === undefined && m[2] === undefined ? BigInt(m[0]) : Number(m[0]);
    }
    throw new PyJsonError("Expecting value", i);
  };
  const string = (): string => {
    i++; // opening quote
    let out = "";
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new PyJsonError("Unterminated string", i);
      if (c === '"') {
        i++;
        return out;
      }
      if (c === "\\") {
        const e = text[i + 1];
        const simple: Record<string, string> = {
          '"': '"',
          "\\": "\\",
          "/": "/",
          b: "\b",
          f: "\f",
          n: "\n",
          r: "\r",
          t: "\t",
        };
        if (e !== undefined && e in simple) {
          out += simple[e];
          i += 2;
        } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(Number.parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else throw new PyJsonError("Invalid \\escape", i);
        continue;
      }
      if (c < " ") throw new PyJsonError("Invalid control character", i);
      out += c;
      i++;
    }
  };
  const result = value();
  skip();
  if (i !== text.length) throw new PyJsonError("Extra data", i);
  return result;
}

/** Python's `json.dumps` string escaping with `ensure_ascii=True`. */
function dumpString(s: string): string {
  let out = '"';
  for (let k = 0; k < s.length; k++) {
    const ch = s[k]!;
    const code = s.charCodeAt(k);
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (code >= 0x20 && code <= 0x7e) out += ch;
    // UTF-16 code units: a character above U+FFFF is already its surrogate pair, as Python
    // writes it.
    else out += `\\u${code.toString(16).padStart(4, "0")}`;
  }
  return `${out}"`;
}

/** Writes `value` as Python's `json.dumps(value)` (separators `, ` and `: `, ASCII only). */
export function pyJsonDumps(value: PyJson): string {
  if (value === null) return "null";
  if (value === true) return "true";
  if (value === false) return "false";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "NaN";
    if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
    return pyFloatRepr(value);
  }
  if (typeof value === "string") return dumpString(value);
  if (Array.isArray(value)) return `[${value.map(pyJsonDumps).join(", ")}]`;
  return `{${[...value].map(([k, v]) => `${dumpString(k)}: ${pyJsonDumps(v)}`).join(", ")}}`;
}
