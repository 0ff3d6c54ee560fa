/**
 * A memory probe that bench/soak.ts preloads into the SuperLink (`NODE_OPTIONS=--require …`).
 *
 * On SIGUSR2 it forces two full garbage collections, then writes
 * `$SOAK_PROBE_DIR/sample-<n>.json`: process.memoryUsage() (rss, heapTotal, heapUsed, external,
 * arrayBuffers), V8's heap statistics and /proc/self/smaps_rollup (anonymous vs file-backed
 * resident memory), before and after the collections. When `$SOAK_PROBE_DIR/command` holds
 * `snapshot` it also writes a V8 heap snapshot (`heap-<n>.heapsnapshot`) after the collections
 * (writing one costs the process tens of MB of native memory that malloc keeps: RSS samples after
 * a snapshot are not comparable with those before). Each sample also copies /proc/self/smaps
 * (`smaps-<n>.txt`).
 * It removes its variables from the environment so that the SuperLink's children (the SuperExec,
 * app processes) start without it. Bench-only: nothing in the SuperLink knows about it.
 */
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const v8 = require("node:v8");
const vm = require("node:vm");

const dir = process.env.SOAK_PROBE_DIR;
delete process.env.SOAK_PROBE_DIR;
delete process.env.NODE_OPTIONS;
if (dir) {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc");
  let n = 0;
  const rollup = () => {
    try {
      const text = fs.readFileSync("/proc/self/smaps_rollup", "utf8");
      const out = {};
      for (const m of text.matchAll(/^(\w+):\s+(\d+) kB/gm)) out[m[1]] = Number(m[2]);
      return out;
    } catch {
      return {};
    }
  };
  process.on("SIGUSR2", () => {
    n += 1;
    let command = "";
    try {
      command = fs.readFileSync(path.join(dir, "command"), "utf8").trim();
    } catch {}
    const before = { memory: process.memoryUsage(), smaps: rollup() };
    const t0 = performance.now();
    gc();
    gc();
    const gcMs = performance.now() - t0;
    const after = {
      memory: process.memoryUsage(),
      heap: v8.getHeapStatistics(),
      spaces: v8.getHeapSpaceStatistics().map((s) => ({
        name: s.space_name,
        used: s.space_used_size,
        size: s.space_size,
      })),
      smaps: rollup(),
    };
    let snapshot;
    if (command === "snapshot")
      snapshot = v8.writeHeapSnapshot(path.join(dir, `heap-${n}.heapsnapshot`));
    try {
      fs.writeFileSync(path.join(dir, `smaps-${n}.txt`), fs.readFileSync("/proc/self/smaps"));
    } catch {}
    const file = path.join(dir, `sample-${n}.json`);
    fs.writeFileSync(`${file}.tmp`, JSON.stringify({ n, gcMs, before, after, snapshot }));
    fs.renameSync(`${file}.tmp`, file);
  });
}
