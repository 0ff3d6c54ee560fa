/**
 * Python-style text for log lines, so strategy logs read like Flower's: `repr(float)`,
 * `repr(str)`, `%.4e`, `str(MetricRecord)` and a `pprint.pformat` subset for dicts.
 */
import type { ConfigRecord } from "../records/config-record.js";
import type { MetricRecord } from "../records/metric-record.js";
import type { ConfigValue } from "../records/scalar.js";

/** `repr(x)` of a Python float: shortest round-trip digits, exponent below 1e-4 or from 1e16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mant, expStr] = x.toExponential().split("e") as [string, string];
  const exp = Number(expStr);
  if (exp < -4 || exp >= 16) {
    const sign = exp < 0 ? "-" : "+";
    return `${mant}e${sign}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  const s = String(x);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** Python's `f"{x:.4e}"` (or another precision). */
export function pyExp(x: number, digits = 4): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const [mant, expStr] = x.toExponential(digits).split("e") as [string, string];
  const exp = Number(expStr);
  return `${mant}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
}

/** `repr(s)` of a Python str. */
export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out + quote;
}

/** `repr()` of a record value (ints as integers, floats as Python floats, bytes as b'…'). */
export function pyValueRepr(v: ConfigValue): string {
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return pyFloatRepr(v);
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "string") return pyStrRepr(v);
  if (v instanceof Uint8Array) {
    let s = "b'";
    for (const b of v) {
      if (b === 0x27 || b === 0x5c) s += `\\${String.fromCharCode(b)}`;
      else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
      else s += `\\x${b.toString(16).padStart(2, "0")}`;
    }
    return `${s}'`;
  }
  return `[${(v as readonly ConfigValue[]).map((e) => pyValueRepr(e)).join(", ")}]`;
}

/** `str(record)` of a MetricRecord or ConfigRecord: `{'loss': 0.5, 'n': 3}`. */
export function recordRepr(record: MetricRecord | ConfigRecord): string {
  const parts: string[] = [];
  for (const [k, v] of record) parts.push(`${pyStrRepr(k)}: ${pyValueRepr(v)}`);
  return `{${parts.join(", ")}}`;
}

/**
 * Flower's `config_to_str`: like {@link recordRepr} but values use `str()` (strings
 * unquoted) and bytes show as `<bytes>`.
 */
export function configToStr(config: ConfigRecord): string {
  const parts: string[] = [];
  for (const [k, v] of config) {
    let s: string;
    if (v instanceof Uint8Array) s = "<bytes>";
    else if (typeof v === "string") s = v;
    else s = pyValueRepr(v);
    parts.push(`'${k}': ${s}`);
  }
  return `{${parts.join(", ")}}`;
}

/** A nested dict for {@link pprintDict}: keys are numbers (ints) or strings, leaves strings. */
export type PyDict = Map<number | string, string | PyDict>;

function keyRepr(k: number | string): string {
  return typeof k === "number" ? String(k) : pyStrRepr(k);
}

function sortedEntries(d: PyDict): [number | string, string | PyDict][] {
  return [...d.entries()].sort(([a], [b]) => {
    if (typeof a === "number" && typeof b === "number") return a - b;
    const sa = String(a);
    const sb = String(b);
    return sa < sb ? -1 : sa > sb ? 1 : 0;
  });
}

function oneLine(v: string | PyDict): string {
  if (typeof v === "string") return pyStrRepr(v);
  return `{${sortedEntries(v)
    .map(([k, x]) => `${keyRepr(k)}: ${oneLine(x)}`)
    .join(", ")}}`;
}

/**
 * `pprint.pformat(d, indent=2)` (width 80, keys sorted) for dicts of dicts of strings, as
 * Flower prints a strategy `Result`.
 */
export function pprintDict(d: PyDict, indent = 0, allowance = 0): string {
  const rep = oneLine(d);
  if (rep.length <= 80 - indent - allowance || d.size === 0) return rep;
  const inner = indent + 2;
  const items = sortedEntries(d);
  const parts = items.map(([k, v], i) => {
    const kr = keyRepr(k);
    const last = i === items.length - 1;
    const sub =
      typeof v === "string"
        ? pyStrRepr(v)
        : pprintDict(v, inner + kr.length + 2, last ? allowance + 1 : 1);
    return `${kr}: ${sub}`;
  });
  return `{ ${parts.join(`,\n${" ".repeat(inner)}`)}}`;
}

/** Python's `f"{x:.6g}"` (or another precision): general format, trailing zeros removed. */
export function pyG(x: number, precision = 6): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const p = Math.max(1, precision);
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const [mant, expStr] = x.toExponential(p - 1).split("e") as [string, string];
  const exp = Number(expStr);
  const strip = (s: string) => (s.includes(".") ? s.replace(/\.?0+$/, "") : s);
  if (exp >= -4 && exp < p) return strip(x.toFixed(p - 1 - exp));
  return `${strip(mant)}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
}
