/**
 * Soak: one long run on a real deployment, watching the SuperLink's memory and database.
 *
 * A SuperLink with TLS, SuperNode authentication and SQLite state (`--database`), `--supernodes`
 * SuperNodes (default 6) and the e2e linear app (FedAvg, train + evaluate on every node) for
 * `--rounds` rounds (default 1,000) in one `flwr run --stream`. Every `--every` rounds it samples
 * the SuperLink: its resident set size (VmRSS) as it is, then, through a probe preloaded into it
 * (bench/soak-probe.cjs, `NODE_OPTIONS=--require`), after two forced full garbage collections:
 * RSS, V8 heap used (live objects) and committed, external memory (ArrayBuffers included) and
 * anonymous resident memory (smaps_rollup); "native" is anonymous memory minus the committed V8
 * heap (malloc: SQLite's page cache, OpenSSL, nghttp2, …). It also samples the largest SuperNode's
 * RSS, and at the end reads the database's size and its `logs` table. It prints the curve and the
 * least-squares growth per round after the warm-up: the samples at or after `--warmup` rounds
 * (default 100) and `--warmup-seconds` (default 330: the SuperLink's replay cache remembers every
 * signed request for 305 s, so it grows for that long and then stays level).
 *
 * The verdict is on retained memory, live V8 heap + external + native after GC, "flat" under
 * 1 KB per round. Raw RSS also carries the V8 heap's free committed space, which moves by a few
 * MB from sample to sample (V8 sizes it from the allocation rate); its slope is printed with the
 * scatter of the samples around the fitted line.
 *
 *   npx tsx bench/soak.ts [--rounds 1000] [--supernodes 6] [--every 100] [--warmup 100]
 *                         [--warmup-seconds 330] [--snapshots <round>,<round>...]
 *                         [--superlink-arg=<flag>=<value> ...]
 *
 * `--snapshots` writes V8 heap snapshots of the SuperLink at those rounds (after the GCs; compare
 * them in Chrome DevTools' Memory tab, node ids are stable within a process). Writing one leaves
 * tens of MB of malloc'd memory in the process, so RSS after a snapshot is not comparable.
 * `--superlink-arg` passes extra flags to `flower-superlink` (e.g.
 * `--superlink-arg=--run-log-max-bytes=65536` to watch the log retention). Requires `pnpm build`.
 */
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startDeployment } from "../e2e/fixtures/deployment.js";
import { stopAll } from "../e2e/support/processes.js";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "1000" },
    supernodes: { type: "string", default: "6" },
    every: { type: "string", default: "100" },
    warmup: { type: "string", default: "100" },
    "warmup-seconds": { type: "string", default: "330" },
    "superlink-arg": { type: "string", multiple: true, default: [] },
    snapshots: { type: "string", default: "" },
  },
});
function positiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer, got "${text}"`);
    process.exit(2);
  }
  return n;
}
const rounds = positiveInt("rounds", values.rounds);
const supernodes = positiveInt("supernodes", values.supernodes);
const every = positiveInt("every", values.every);
const warmup = positiveInt("warmup", values.warmup);
const warmupSeconds = positiveInt("warmup-seconds", values["warmup-seconds"]);
const superlinkArgs = values["superlink-arg"].flatMap((a) => {
  const eq = a.indexOf("=");
  return eq < 0 ? [a] : [a.slice(0, eq), a.slice(eq + 1)];
});

/** VmRSS of a process in KiB (0 once it has exited). */
function rssKiB(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

const snapshotRounds = new Set(
  values.snapshots
    .split(",")
    .filter((t) => t.trim() !== "")
    .map((t) => positiveInt("snapshots", t.trim())),
);

interface Sample {
  round: number;
  seconds: number;
  load1: number;
  superlinkKiB: number;
  /** After two forced full GCs (the probe), KiB: RSS, V8 heap used, external (incl. ArrayBuffers), anonymous resident. */
  gcRssKiB: number;
  heapKiB: number;
  heapTotalKiB: number;
  externalKiB: number;
  anonKiB: number;
  supernodeKiB: number;
  snapshot?: string;
}

const probeDir = mkdtempSync(join(tmpdir(), "flwr-ts-soak-probe-"));
const loadBefore = loadavg();
const deployment = await startDeployment({
  supernodes,
  sqlite: true,
  superlinkArgs,
  superlinkEnv: {
    NODE_OPTIONS: `--require ${join(import.meta.dirname, "soak-probe.cjs")}`,
    SOAK_PROBE_DIR: probeDir,
  },
});
let probes = 0;
/** Asks the SuperLink's probe for a GC-forced memory sample (and a heap snapshot). */
async function probe(pid: number | undefined, snapshot: boolean) {
  if (pid === undefined) return undefined;
  writeFileSync(join(probeDir, "command"), snapshot ? "snapshot" : "");
  probes += 1;
  const file = join(probeDir, `sample-${probes}.json`);
  process.kill(pid, "SIGUSR2");
  const deadline = performance.now() + 120_000;
  while (!existsSync(file)) {
    if (performance.now() > deadline)
      throw new Error(`no probe sample from the SuperLink (${file})`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return JSON.parse(readFileSync(file, "utf8")) as {
    gcMs: number;
    after: {
      memory: NodeJS.MemoryUsage;
      smaps: Record<string, number>;
    };
    snapshot?: string;
  };
}
const samples: Sample[] = [];
const started = performance.now();
let failed: string | undefined;
try {
  const run = deployment.flwrStart([
    "run",
    deployment.appDir,
    "my-federation",
    "--stream",
    "--run-config",
    `num-server-rounds=${rounds}`,
  ]);
  const sample = async (round: number) => {
    const pid = deployment.superlink.child.pid;
    const seconds = (performance.now() - started) / 1000;
    const superlinkKiB = rssKiB(pid);
    const supernodeKiB = Math.max(...deployment.supernodes.map((s) => rssKiB(s.child.pid)));
    const p = await probe(pid, snapshotRounds.has(round));
    const kib = (bytes: number | undefined) => (bytes ?? 0) / 1024;
    samples.push({
      round,
      seconds,
      load1: loadavg()[0] ?? 0,
      superlinkKiB,
      gcRssKiB: kib(p?.after.memory.rss),
      heapKiB: kib(p?.after.memory.heapUsed),
      heapTotalKiB: kib(p?.after.memory.heapTotal),
      externalKiB: kib(p?.after.memory.external),
      anonKiB: p?.after.smaps.Anonymous ?? 0,
      supernodeKiB,
      ...(p?.snapshot ? { snapshot: p.snapshot } : {}),
    });
  };
  await sample(0);
  let next = every;
  let done = false;
  void run.exited().then(() => {
    done = true;
  });
  while (!done) {
    await new Promise((r) => setTimeout(r, 200));
    const seen = [...run.output().matchAll(/server evaluate round (\d+)/g)].at(-1);
    const round = seen ? Number(seen[1]) : 0;
    while (round >= next && next <= rounds) {
      await sample(next);
      process.stderr.write(`round ${next}/${rounds}\n`);
      next += every;
    }
  }
  const code = await run.exited();
  if (code !== 0) failed = `flwr run exited ${code}:\n${run.output().slice(-3000)}`;
} finally {
  await deployment.superlink.stop("SIGTERM", 10_000);
}

const dbPath = join(deployment.dir, "state.db");
const dbBytes = statSync(dbPath).size;
const require = createRequire(
  join(import.meta.dirname, "..", "packages", "flwr-transport", "x.js"),
);
const Database = require("better-sqlite3") as typeof import("better-sqlite3");
const db = new Database(dbPath, { readonly: true });
const logs = db
  .prepare("SELECT count(*) AS rows, coalesce(sum(length(log)), 0) AS bytes FROM logs")
  .get() as {
  rows: number;
  bytes: number;
};
db.close();
await deployment.stop();
await stopAll();

if (failed) {
  console.error(failed);
  process.exit(1);
}
const mb = (kib: number) => (kib / 1024).toFixed(1);
console.log(
  `\nSoak: ${rounds} rounds, ${supernodes} SuperNodes, TLS + SuperNode auth, SQLite state, linear app (FedAvg train + evaluate on every node)${superlinkArgs.length ? `, superlink ${superlinkArgs.join(" ")}` : ""}.`,
);
console.log(
  `Load average before ${loadBefore.map((l) => l.toFixed(2)).join(" ")}, after ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}.`,
);
const cols: [string, (s: Sample) => string][] = [
  ["round", (s) => String(s.round)],
  ["time s", (s) => s.seconds.toFixed(1)],
  ["load1", (s) => s.load1.toFixed(2)],
  ["RSS MB", (s) => mb(s.superlinkKiB)],
  ["RSS after GC", (s) => mb(s.gcRssKiB)],
  ["heap used MB", (s) => mb(s.heapKiB)],
  ["heap committed", (s) => mb(s.heapTotalKiB)],
  ["external MB", (s) => mb(s.externalKiB)],
  ["anon MB", (s) => mb(s.anonKiB)],
  ["native MB", (s) => mb(s.anonKiB - s.heapTotalKiB)],
  ["SuperNode RSS MB", (s) => mb(s.supernodeKiB)],
];
console.log(
  "SuperLink memory (RSS as sampled; the rest after two forced full GCs: external includes ArrayBuffers, anon is Anonymous in smaps_rollup, native = anon - V8 heap committed) and the largest SuperNode's RSS:",
);
console.log(cols.map(([h]) => h.padStart(Math.max(8, h.length))).join(" "));
for (const s of samples)
  console.log(
    `${cols.map(([h, f]) => f(s).padStart(Math.max(8, h.length))).join(" ")}${s.snapshot ? `  heap snapshot ${s.snapshot}` : ""}`,
  );
const after = samples.filter((s) => s.round >= warmup && s.seconds >= warmupSeconds);
type Quantity = (s: Sample) => number;
const q = {
  rss: (s) => s.superlinkKiB,
  gcRss: (s) => s.gcRssKiB,
  heap: (s) => s.heapKiB,
  heapTotal: (s) => s.heapTotalKiB,
  external: (s) => s.externalKiB,
  native: (s) => s.anonKiB - s.heapTotalKiB,
  retained: (s) => s.heapKiB + s.externalKiB + (s.anonKiB - s.heapTotalKiB),
  supernode: (s) => s.supernodeKiB,
} satisfies Record<string, Quantity>;
/** Least-squares fit of `f` over the samples after the warm-up: KiB per round, and the RMS residual in KiB. */
function leastSquares(f: Quantity): { slope: number; scatter: number } {
  if (after.length < 2) return { slope: 0, scatter: 0 };
  const mx = after.reduce((a, s) => a + s.round, 0) / after.length;
  const my = after.reduce((a, s) => a + f(s), 0) / after.length;
  let num = 0;
  let den = 0;
  for (const s of after) {
    num += (s.round - mx) * (f(s) - my);
    den += (s.round - mx) ** 2;
  }
  const slope = den === 0 ? 0 : num / den;
  const scatter = Math.sqrt(
    after.reduce((a, s) => a + (f(s) - (my + slope * (s.round - mx))) ** 2, 0) / after.length,
  );
  return { slope, scatter };
}
const kbr = (f: Quantity) => {
  const { slope, scatter } = leastSquares(f);
  return `${slope.toFixed(2)} KB/round (scatter ±${mb(scatter)} MB)`;
};
const first = after[0];
const last = samples.at(-1);
if (!first || after.length < 3) {
  console.log(
    `\nno growth figures and no verdict: fewer than 3 samples after the warm-up (round ${warmup} and ${warmupSeconds} s); run more rounds or lower --warmup/--warmup-seconds`,
  );
} else {
  console.log(
    `\nafter the warm-up (from round ${first.round}, ${first.seconds.toFixed(0)} s; ${after.length} samples), least-squares growth of the SuperLink:`,
  );
  console.log(
    `  RSS as sampled ${kbr(q.rss)}, ${mb(first.superlinkKiB)} -> ${mb(last!.superlinkKiB)} MB, peak ${mb(Math.max(...after.map((s) => s.superlinkKiB)))} MB`,
  );
  console.log(`  RSS after GC ${kbr(q.gcRss)}`);
  console.log(
    `  V8 heap used after GC ${kbr(q.heap)}, ${mb(first.heapKiB)} -> ${mb(last!.heapKiB)} MB; V8 heap committed ${kbr(q.heapTotal)}`,
  );
  console.log(`  external ${kbr(q.external)}; native (anonymous - V8 committed) ${kbr(q.native)}`);
  console.log(`  retained (heap used + external + native) ${kbr(q.retained)}`);
  console.log(`  largest SuperNode RSS ${kbr(q.supernode)}`);
  const retained = leastSquares(q.retained).slope;
  console.log(
    `verdict: SuperLink memory ${retained < 1 ? "flat" : "GROWING"} after the warm-up (retained ${retained.toFixed(2)} KB/round; flat is < 1 KB/round)`,
  );
}
console.log(
  `database ${(dbBytes / 1024).toFixed(0)} KB (${(dbBytes / 1024 / rounds).toFixed(2)} KB/round); logs table ${logs.rows} rows, ${(logs.bytes / 1024).toFixed(0)} KB of text`,
);
console.log(
  `rounds/s ${(rounds / ((last?.seconds ?? 0) - (samples[0]?.seconds ?? 0))).toFixed(1)}`,
);
