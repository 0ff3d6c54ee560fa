/**
 * Soak: one long run on a real deployment, watching the SuperLink's memory and database.
 *
 * A SuperLink with TLS, SuperNode authentication and SQLite state (`--database`), `--supernodes`
 * SuperNodes (default 6) and the e2e linear app (FedAvg, train + evaluate on every node) for
 * `--rounds` rounds (default 1,000) in one `flwr run --stream`. Every `--every` rounds it samples
 * the resident set size (VmRSS) of the SuperLink and of the largest SuperNode; at the end it reads
 * the database's size and its `logs` table. It prints the curve, the growth per round after the
 * warm-up (the least-squares slope over the samples at or after `--warmup` rounds, default 100)
 * and the verdict "flat" when that slope is under 1 KB per round.
 *
 *   npx tsx bench/soak.ts [--rounds 1000] [--supernodes 6] [--every 100] [--warmup 100]
 *                         [--superlink-arg=<flag>=<value> ...]
 *
 * `--superlink-arg` passes extra flags to `flower-superlink` (e.g.
 * `--superlink-arg=--run-log-max-bytes=65536` to watch the log retention). Requires `pnpm build`.
 */
import { readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { loadavg } from "node:os";
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
    "superlink-arg": { type: "string", multiple: true, default: [] },
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

interface Sample {
  round: number;
  seconds: number;
  superlinkKiB: number;
  supernodeKiB: number;
}

const loadBefore = loadavg();
const deployment = await startDeployment({
  supernodes,
  sqlite: true,
  superlinkArgs,
});
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
  const sample = (round: number) =>
    samples.push({
      round,
      seconds: (performance.now() - started) / 1000,
      superlinkKiB: rssKiB(deployment.superlink.child.pid),
      supernodeKiB: Math.max(...deployment.supernodes.map((s) => rssKiB(s.child.pid))),
    });
  sample(0);
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
      sample(next);
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
console.log(
  `${"round".padStart(6)} ${"time s".padStart(8)} ${"SuperLink RSS MB".padStart(17)} ${"max SuperNode RSS MB".padStart(21)}`,
);
for (const s of samples)
  console.log(
    `${String(s.round).padStart(6)} ${s.seconds.toFixed(1).padStart(8)} ${mb(s.superlinkKiB).padStart(17)} ${mb(s.supernodeKiB).padStart(21)}`,
  );
const after = samples.filter((s) => s.round >= warmup);
/** Least-squares slope (KiB per round) of `key` over the samples after the warm-up. */
function slope(key: "superlinkKiB" | "supernodeKiB"): number {
  if (after.length < 2) return 0;
  const mx = after.reduce((a, s) => a + s.round, 0) / after.length;
  const my = after.reduce((a, s) => a + s[key], 0) / after.length;
  let num = 0;
  let den = 0;
  for (const s of after) {
    num += (s.round - mx) * (s[key] - my);
    den += (s.round - mx) ** 2;
  }
  return num / den;
}
const peak = Math.max(...after.map((s) => s.superlinkKiB));
console.log(
  `\ngrowth after round ${after[0]?.round ?? 0} (least-squares slope): SuperLink ${slope("superlinkKiB").toFixed(2)} KB/round (${slope("superlinkKiB") < 1 ? "flat" : "GROWING"}; peak ${mb(peak)} MB), SuperNode ${slope("supernodeKiB").toFixed(2)} KB/round`,
);
const to = samples.at(-1)!;
console.log(
  `database ${(dbBytes / 1024).toFixed(0)} KB (${(dbBytes / 1024 / rounds).toFixed(2)} KB/round); logs table ${logs.rows} rows, ${(logs.bytes / 1024).toFixed(0)} KB of text`,
);
console.log(`rounds/s ${(rounds / (to.seconds - (samples[0]?.seconds ?? 0))).toFixed(1)}`);
