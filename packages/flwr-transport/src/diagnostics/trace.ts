/**
 * Hop-level tracing of the message path, for latency work (`bench/round-latency.ts --trace`).
 *
 * Off by default and nearly free when off (one boolean test per call site). Enabled by the
 * environment variable `FLWR_TS_TRACE`:
 * - `1` writes one JSON line per event to stderr (directly to fd 2, so a ServerApp's log
 *   capture does not ship it to the SuperLink);
 * - an absolute path appends the lines to that file, so every process of a deployment (they
 *   inherit the environment) writes one shared timeline (each line is one `O_APPEND` write).
 *
 * A line: `{"t": epoch ms (µs precision), "d": duration ms (spans), "p": process role, "pid",
 * "e": event name, ...attributes}`. Timestamps come from `performance.timeOrigin +
 * performance.now()`, comparable across processes of one machine.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { basename } from "node:path";

const setting = process.env["FLWR_TS_TRACE"];

/** True when tracing is on (test it before building attributes on hot paths). */
export const TRACE_ENABLED = setting !== undefined && setting !== "" && setting !== "0";

let fd = -1;
let role = "";

function open(): number {
  if (fd >= 0) return fd;
  if (setting === "1" || setting === "stderr") {
    fd = 2;
  } else {
    try {
      fd = openSync(setting!, "a");
      process.once("exit", () => closeSync(fd));
    } catch {
      fd = 2;
    }
  }
  role = basename(process.argv[1] ?? "node").replace(/\.(js|ts|mjs)$/, "");
  return fd;
}

/** High-resolution wall-clock time, epoch milliseconds. */
export function traceNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Attributes of an event (ids, counts, sizes). */
export type TraceAttributes = Record<string, string | number | bigint | boolean | undefined>;

function write(t: number, d: number | undefined, event: string, attrs?: TraceAttributes): void {
  const out = open();
  let line = `{"t":${t.toFixed(3)}`;
  if (d !== undefined) line += `,"d":${d.toFixed(3)}`;
  line += `,"p":"${role}","pid":${process.pid},"e":${JSON.stringify(event)}`;
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined) continue;
      line += `,${JSON.stringify(k)}:${typeof v === "bigint" ? `"${v}"` : JSON.stringify(v)}`;
    }
  }
  try {
    writeSync(out, `${line}}\n`);
  } catch {
    // tracing must never break the traced process
  }
}

/** Records an instant event (no-op when tracing is off). */
export function trace(event: string, attrs?: TraceAttributes): void {
  if (!TRACE_ENABLED) return;
  write(traceNow(), undefined, event, attrs);
}

/** Records a span that started at `start` (a {@link traceNow} value) and ends now. */
export function traceSpan(event: string, start: number, attrs?: TraceAttributes): void {
  if (!TRACE_ENABLED) return;
  const now = traceNow();
  write(start, now - start, event, attrs);
}
