/**
 * V8 heap bytes per entry of the SuperLink's replay cache (`ReplayCache` in @flwr-ts/crypto).
 *
 * The cache holds one entry per signed Fleet request of the last 305 s, so its size follows the
 * request rate: about 130,000 entries with 6 SuperNodes running rounds back to back
 * (`bench/soak.ts`). This fills a cache with that many distinct (key, timestamp) pairs from 6
 * keys, as a SuperLink sees them, and prints the live heap it adds after a full GC.
 *
 *   npx tsx bench/replay-cache-memory.ts [--entries 130000]
 */
import { parseArgs } from "node:util";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { formatFlowerTimestamp, ReplayCache } from "../packages/flwr-crypto/src/index.js";

const { values } = parseArgs({ options: { entries: { type: "string", default: "130000" } } });
const entries = Number(values.entries);
if (!Number.isInteger(entries) || entries < 1) {
  console.error(`--entries must be a positive integer, got "${values.entries}"`);
  process.exit(2);
}
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const keys = Array.from({ length: 6 }, (_, i) =>
  Buffer.from(
    `-----BEGIN PUBLIC KEY-----\nnode-${i}-${"x".repeat(150)}\n-----END PUBLIC KEY-----\n`,
  ),
);
const t0 = Date.now();
gc();
const before = process.memoryUsage().heapUsed;
const cache = new ReplayCache({ clock: () => t0 + 1000 });
for (let i = 0; i < entries; i++) {
  cache.checkAndRemember(keys[i % keys.length]!, formatFlowerTimestamp((t0 + i) * 1000 + 123));
}
gc();
const after = process.memoryUsage().heapUsed;
console.log(`replay cache: ${cache.size} entries`);
console.log(
  `  V8 heap ${((after - before) / 2 ** 20).toFixed(1)} MB, ${((after - before) / entries).toFixed(1)} bytes per entry`,
);
