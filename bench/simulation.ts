/**
 * Simulation Engine benchmark (issue #16): 1,000 virtual SuperNodes, 10 rounds of a
 * 10,000-parameter model with 100 sampled per round (FedAvg of the replies), flwr-ts's engine
 * with 1 and 2 worker threads beside Python Flower 1.29's Ray simulation on the same app logic
 * (bench/python/sim_bench.py). Prints seconds per round and peak RSS in one table.
 *
 *   npx tsx --conditions=source bench/simulation.ts [--nodes 1000] [--rounds 10] [--sample 100]
 *
 * Python's engine is installed outside the repo and CI:
 *   python3 -m venv /tmp/venv-sim && /tmp/venv-sim/bin/pip install "flwr[simulation]==1.29.0"
 * (`SIM_PYTHON` / `--python` give another interpreter). Without it the Python column is skipped.
 * Peak RSS of flwr-ts is the process's (its worker threads included); Python's is the driver's
 * plus the largest Ray child (ru_maxrss of RUSAGE_SELF + RUSAGE_CHILDREN), a lower bound.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ArrayRecord, ConfigRecord, Message, MessageType, RecordDict } from "@flwr-ts/core";
import { SimulationEngine } from "../packages/flwr-transport/src/simulation/simulation-engine.js";

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "1000" },
    rounds: { type: "string", default: "10" },
    sample: { type: "string", default: "100" },
    python: { type: "string", default: process.env["SIM_PYTHON"] ?? "/tmp/venv-sim/bin/python" },
  },
});
const int = (name: string, v: string | undefined) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer, got '${v}'`);
    process.exit(2);
  }
  return n;
};
const nodes = int("nodes", values.nodes);
const rounds = int("rounds", values.rounds);
const sample = Math.min(int("sample", values.sample), nodes);
const PARAMS = 10_000;

async function flwrTs(workers: number): Promise<{ perRound: number; rssMb: number }> {
  const engine = await SimulationEngine.start({
    appDir: join(import.meta.dirname, "simulation-app"),
    clientApp: { module: "client_app.ts", exportName: "app" },
    runId: 1n,
    runConfig: {},
    numSupernodes: nodes,
    workers,
  });
  try {
    const ids = await engine.getNodeIds();
    let w = new Float32Array(PARAMS);
    const t0 = performance.now();
    for (let r = 1; r <= rounds; r++) {
      const picked = [...ids].sort(() => Math.random() - 0.5).slice(0, sample);
      const replies = await engine.sendAndReceive(
        picked.map(
          (dst) =>
            new Message(
              new RecordDict({
                arrays: ArrayRecord.fromTypedArrays([["w", w]]),
                config: new ConfigRecord({ "server-round": BigInt(r) }),
              }),
              dst,
              MessageType.TRAIN,
              { groupId: String(r) },
            ),
        ),
      );
      const sum = new Float32Array(PARAMS);
      let ok = 0;
      for (const m of replies) {
        if (!m.hasContent()) continue;
        const a = m.content.arrayRecords.get("arrays")!.get("w")!.toTypedArray("float32");
        for (let i = 0; i < PARAMS; i++) sum[i]! += a[i]!;
        ok++;
      }
      if (ok !== sample) throw new Error(`round ${r}: ${ok}/${sample} replies`);
      for (let i = 0; i < PARAMS; i++) sum[i]! /= ok;
      w = sum;
    }
    const perRound = (performance.now() - t0) / 1000 / rounds;
    return { perRound, rssMb: process.resourceUsage().maxRSS / 1024 };
  } finally {
    await engine.close();
  }
}

function python(): { perRound: number; rssMb: number } | string {
  if (!existsSync(values.python!))
    return `not installed (python3 -m venv /tmp/venv-sim && /tmp/venv-sim/bin/pip install "flwr[simulation]==1.29.0")`;
  try {
    const out = execFileSync(
      values.python!,
      [
        join(import.meta.dirname, "python", "sim_bench.py"),
        String(nodes),
        String(rounds),
        String(sample),
      ],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 1_200_000 },
    );
    const line = out.trim().split("\n").pop()!;
    const parsed = JSON.parse(line) as { per_round: number; rss_mb: number };
    return { perRound: parsed.per_round, rssMb: parsed.rss_mb };
  } catch (error) {
    return `failed: ${(error as Error).message.split("\n")[0]}`;
  }
}

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(", ");
console.log(
  `${nodes} virtual SuperNodes, ${rounds} rounds, ${sample} sampled/round, ${PARAMS} float32 params; load before: ${load()}`,
);
// Each flwr-ts row runs in a fresh process so that peak RSS is its own.
if (process.env["SIM_BENCH_CHILD"]) {
  const r = await flwrTs(Number(process.env["SIM_BENCH_CHILD"]));
  console.log(JSON.stringify(r));
  process.exit(0);
}
const rows: [string, string, string][] = [];
for (const workers of [1, 2]) {
  const out = execFileSync(
    process.execPath,
    [...process.execArgv, import.meta.filename, ...process.argv.slice(2)],
    {
      env: { ...process.env, SIM_BENCH_CHILD: String(workers) },
      encoding: "utf8",
    },
  );
  const r = JSON.parse(out.trim().split("\n").pop()!) as { perRound: number; rssMb: number };
  rows.push([
    `flwr-ts engine, ${workers} worker thread(s)`,
    r.perRound.toFixed(3),
    r.rssMb.toFixed(0),
  ]);
}
const py = python();
rows.push(
  typeof py === "string"
    ? ["Python Flower 1.29 Ray simulation", py, ""]
    : ["Python Flower 1.29 Ray simulation", py.perRound.toFixed(3), py.rssMb.toFixed(0)],
);
console.log("| engine | s/round | peak RSS (MB) |\n|---|---|---|");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
console.log(`load after: ${load()}`);
