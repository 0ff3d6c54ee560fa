/**
 * Round latency of a real deployment: a flwr-ts SuperLink and two SuperNodes (separate
 * processes, TLS + SuperNode authentication, subprocess isolation), a no-op ClientApp, FedAvg for
 * N rounds. Each round's wall time is taken from timestamps the ServerApp logs (streamed back
 * with `flwr run --stream`); the first round (cold ClientApp processes) is reported apart.
 *
 * Then, in the same run, the same measurement on Python Flower (the pinned flwr in `.venv`):
 * Python SuperLink + two Python SuperNodes with the same certificates, key curve, TLS, SuperNode
 * auth and subprocess isolation (`e2e/fixtures/python-deployment.ts`), and the no-op NumPy app
 * `bench/python/noop-app` started with Python `flwr run --stream`. Both are printed side by side.
 *
 *   npx tsx bench/round-latency.ts [rounds=30] [--trace] [--curve P-256|P-384|P-521]
 *                                  [--python-rounds 3] [--no-python]
 *
 * `--curve` picks the SuperNode keys' curve (default P-384, as the seed's `ssh-keygen -b 384`):
 * every Fleet call is signed by the SuperNode and verified by the SuperLink, and a P-384
 * signature costs about 25× a P-256 one in Node's OpenSSL.
 *
 * `--python-rounds` (default 3) sets the Python run's rounds: Python Flower polls (Grid every 3 s,
 * SuperNode every 3 s, SuperExec every 1 s), so each of its rounds takes seconds. `--no-python`
 * skips it (as does a missing or wrong Python flwr; the bench then prints the polling floor).
 *
 * Requires `pnpm build`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { startDeployment } from "../e2e/fixtures/deployment.js";
import { startPythonDeployment } from "../e2e/fixtures/python-deployment.js";
import { stopAll } from "../e2e/support/processes.js";
import { pythonFlwrAvailable, pythonFlwrProblem } from "../interop/python.js";

const valued = new Set(["--curve", "--python-rounds"]);
const positional = process.argv
  .slice(2)
  .filter((a, i, all) => !a.startsWith("--") && !valued.has(all[i - 1] ?? ""));
const rounds = Number(positional[0] ?? 30);
if (!Number.isInteger(rounds) || rounds < 2) {
  console.error("rounds must be an integer >= 2 (the first round is reported apart)");
  process.exit(2);
}
/** `--trace`: run with FLWR_TS_TRACE and print the hop timeline of the median warm round. */
const withTrace = process.argv.includes("--trace");
const curveArg = process.argv.includes("--curve")
  ? process.argv[process.argv.indexOf("--curve") + 1]
  : "P-384";
if (curveArg !== "P-256" && curveArg !== "P-384" && curveArg !== "P-521") {
  console.error("--curve must be P-256, P-384 or P-521");
  process.exit(2);
}
const curve: "P-256" | "P-384" | "P-521" = curveArg;
const pythonRounds = process.argv.includes("--python-rounds")
  ? Number(process.argv[process.argv.indexOf("--python-rounds") + 1])
  : 3;
if (!Number.isInteger(pythonRounds) || pythonRounds < 2) {
  console.error("--python-rounds must be an integer >= 2 (the first round is reported apart)");
  process.exit(2);
}
/** Why the Python measurement is skipped, or undefined when it runs. */
const pythonSkip = process.argv.includes("--no-python")
  ? "--no-python"
  : pythonFlwrAvailable
    ? undefined
    : pythonFlwrProblem;

function noopApp(): string {
  const dir = mkdtempSync(join(tmpdir(), "flwr-ts-noop-app-"));
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({
      name: "noop-app",
      version: "1.0.0",
      type: "module",
      flwr: {
        app: {
          publisher: "bench",
          components: { serverapp: "server_app.ts:app", clientapp: "client_app.ts:app" },
          config: { "num-server-rounds": 3 },
        },
        federations: { default: "x", x: { address: "127.0.0.1:1", insecure: true } },
      },
    }),
  );
  writeFileSync(
    join(dir, "client_app.ts"),
    `import { ArrayRecord, ClientApp, Message, MetricRecord, RecordDict } from "@flwr-ts/core";
export const app = new ClientApp();
app.train()(async (msg) => new Message(new RecordDict({ arrays: msg.content.arrayRecords.get("arrays") ?? new ArrayRecord(), metrics: new MetricRecord({ "num-examples": 1n }) }), { replyTo: msg }));
app.evaluate()(async (msg) => new Message(new RecordDict({ metrics: new MetricRecord({ "num-examples": 1n, loss: 0 }) }), { replyTo: msg }));
`,
  );
  writeFileSync(
    join(dir, "server_app.ts"),
    `import { readdirSync, readFileSync } from "node:fs";
import { ArrayRecord, FedAvg, NdArray, ServerApp } from "@flwr-ts/core";

/** CPU ticks (user + system, own + reaped children) of every process under the bench, by name. */
function cpuTicks(rootPid: number): Record<string, number> {
  const parent = new Map<number, number>();
  const ticks = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync("/proc/" + entry + "/stat", "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const pid = Number(entry);
      parent.set(pid, Number(f[1]));
      ticks.set(pid, Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]));
      const argv = readFileSync("/proc/" + entry + "/cmdline", "utf8").split("\\0");
      const script = argv.find((a) => /\\/(flwr|flower)[-\\w]*\\.js$/.test(a)) ?? argv[0] ?? "?";
      names.set(pid, script.slice(script.lastIndexOf("/") + 1).replace(/\\.js$/, ""));
    } catch {
      // the process exited meanwhile
    }
  }
  const out: Record<string, number> = {};
  for (const [pid, t] of ticks) {
    let p = parent.get(pid);
    while (p !== undefined && p !== rootPid && p > 1) p = parent.get(p);
    if (p !== rootPid) continue;
    const name = names.get(pid) ?? "?";
    out[name] = (out[name] ?? 0) + t;
  }
  return out;
}

export const app = new ServerApp();
app.main()(async (grid, context) => {
  const numRounds = Number(context.runConfig["num-server-rounds"]);
  const root = Number(process.env.BENCH_ROOT_PID ?? 0);
  let last = performance.now();
  await new FedAvg().start({
    grid,
    numRounds,
    initialArrays: new ArrayRecord({ w: NdArray.fromTypedArray(new Float32Array(10)) }),
    evaluateFn: (round) => {
      const now = performance.now();
      if (round > 0) console.log("ROUND_MS " + round + " " + (now - last).toFixed(2) + " " + (performance.timeOrigin + now).toFixed(3));
      if (root && (round === 1 || round === numRounds))
        console.log("CPU_TICKS " + round + " " + JSON.stringify(cpuTicks(root)));
      last = performance.now();
      return undefined;
    },
  });
});
`,
  );
  return dir;
}

function stats(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))]!;
  return { median: q(0.5), p90: q(0.9), min: s[0]!, max: s[s.length - 1]! };
}

interface TraceEvent {
  t: number;
  d?: number;
  p: string;
  pid: number;
  e: string;
  m?: string;
  [k: string]: unknown;
}

/** Prints every traced event of one round (train + evaluate), relative to the round start. */
function printRoundTimeline(traceFile: string, roundEnds: number[], round: number): void {
  const events: TraceEvent[] = readFileSync(traceFile, "utf8")
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as TraceEvent);
  const start = roundEnds[round - 2]!;
  const end = roundEnds[round - 1]!;
  const inRound = events.filter((e) => e.t >= start && e.t <= end).sort((a, b) => a.t - b.t);
  const pids = new Map<number, string>();
  const label = (e: TraceEvent) => {
    if (!pids.has(e.pid)) {
      const same = [...pids.values()].filter((v) => v.startsWith(e.p)).length;
      pids.set(e.pid, `${e.p}#${same}`);
    }
    return pids.get(e.pid)!;
  };
  for (const e of events) label(e);
  console.log(
    `\ntimeline of round ${round} (${(end - start).toFixed(1)} ms), t relative to its start:`,
  );
  for (const e of inRound) {
    const { t, d, p: _p, pid: _pid, e: name, ...attrs } = e;
    const extra = Object.entries(attrs)
      .filter(
        ([k, v]) =>
          v !== undefined &&
          !(k === "prep" && Number(v) < 0.05) &&
          !(k === "mw" && Number(v) < 0.05),
      )
      .map(([k, v]) => `${k}=${typeof v === "string" && v.length > 12 ? v.slice(0, 8) : v}`)
      .join(" ");
    const span = d === undefined ? "" : ` [${d.toFixed(2)} ms → ${(t + d - start).toFixed(2)}]`;
    console.log(
      `  ${(t - start).toFixed(2).padStart(8)}  ${label(e).padEnd(20)} ${name}${span} ${extra}`,
    );
  }
  // Per process: summed server-side handler time and client-side call time.
  const perProc = new Map<string, { calls: number; clientMs: number; serverMs: number }>();
  for (const e of inRound) {
    if (e.d === undefined || (e.e !== "rpc.c" && e.e !== "rpc.s")) continue;
    const k = label(e);
    const v = perProc.get(k) ?? { calls: 0, clientMs: 0, serverMs: 0 };
    if (e.e === "rpc.c") {
      v.calls++;
      v.clientMs += e.d;
    } else v.serverMs += e.d;
    perProc.set(k, v);
  }
  console.log("  per process: rpc calls made / client-side ms / server-side handler ms");
  for (const [k, v] of perProc)
    console.log(
      `    ${k.padEnd(20)} ${String(v.calls).padStart(4)} ${v.clientMs.toFixed(1).padStart(8)} ${v.serverMs.toFixed(1).padStart(8)}`,
    );
}

/** Round times of one run, from the ServerApp's `ROUND_MS <round> <ms> <epoch ms>` lines. */
interface RoundTimes {
  /** Milliseconds of each round, in order. */
  times: number[];
  /** Epoch milliseconds at the end of each round. */
  ends: number[];
}

/** Parses the ROUND_MS lines of `output`; throws (with the output) unless there is one per round. */
function parseRounds(output: string, expected: number, what: string): RoundTimes {
  const marks = [...output.matchAll(/ROUND_MS (\d+) ([\d.]+) ([\d.]+)/g)];
  if (marks.length !== expected)
    throw new Error(`${what}: expected ${expected} round timings, got ${marks.length}\n${output}`);
  return { times: marks.map((m) => Number(m[2])), ends: marks.map((m) => Number(m[3])) };
}

/** One row of the side-by-side table. */
interface Row {
  impl: string;
  rounds: number;
  first: number;
  warm: ReturnType<typeof stats>;
  /** 1-minute load average when the run ended. */
  load: number;
}

const loadNow = () =>
  `${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")} (${cpus().length} cores)`;

/** Runs the flwr-ts deployment for `rounds` rounds, prints its details, returns its row. */
async function measureFlwrTs(): Promise<Row> {
  const traceFile = withTrace
    ? join(mkdtempSync(join(tmpdir(), "flwr-ts-trace-")), "trace.jsonl")
    : undefined;
  const deployment = await startDeployment({
    app: noopApp(),
    keyCurve: curve,
    env: {
      BENCH_ROOT_PID: String(process.pid),
      ...(traceFile ? { FLWR_TS_TRACE: traceFile } : {}),
    },
  });
  try {
    const r = await deployment.flwr(
      [
        "run",
        deployment.appDir,
        "my-federation",
        "--stream",
        "--run-config",
        `num-server-rounds=${rounds}`,
      ],
      600_000,
    );
    const { times, ends } = parseRounds(r.output, rounds, "flwr-ts");
    const warm = stats(times.slice(1));
    console.log(
      `flwr-ts round latency (2 SuperNodes, TLS + auth with ${curve} keys, no-op ClientApp, FedAvg train+evaluate)${traceFile ? " — TRACING ON" : ""}:`,
    );
    console.log(`  first round (cold ClientApp processes): ${times[0]!.toFixed(1)} ms`);
    console.log(
      `  rounds 2..${rounds}: median ${warm.median.toFixed(1)} ms, p90 ${warm.p90.toFixed(1)} ms, min ${warm.min.toFixed(1)} ms, max ${warm.max.toFixed(1)} ms`,
    );
    const cpu = [...r.output.matchAll(/CPU_TICKS (\d+) (\{.*\})/g)].map(
      (m) => JSON.parse(m[2]!) as Record<string, number>,
    );
    if (cpu.length === 2) {
      const tick = 1000 / 100; // USER_HZ
      const [a, b] = cpu as [Record<string, number>, Record<string, number>];
      const per = (name: string) => (((b[name] ?? 0) - (a[name] ?? 0)) * tick) / (rounds - 1);
      const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((n) => per(n) > 0);
      const total = names.reduce((sum, n) => sum + per(n), 0);
      console.log(
        `  CPU per warm round, all processes: ${total.toFixed(1)} ms (${names
          .sort((x, y) => per(y) - per(x))
          .map((n) => `${n} ${per(n).toFixed(1)}`)
          .join(", ")})`,
      );
    }
    console.log(`  load average at the end of the run: ${loadNow()}`);
    if (traceFile) {
      const warmRounds = times.map((t, i) => ({ t, round: i + 1 })).slice(1);
      const median = [...warmRounds].sort((x, y) => x.t - y.t)[Math.floor(warmRounds.length / 2)]!;
      printRoundTimeline(traceFile, ends, median.round);
    }
    return { impl: "flwr-ts", rounds, first: times[0]!, warm, load: loadavg()[0]! };
  } finally {
    await deployment.stop();
  }
}

/**
 * Runs the same topology on Python Flower for `pythonRounds` rounds with the no-op NumPy app
 * (`bench/python/noop-app`, started by Python `flwr run --stream`), returns its row.
 */
async function measurePython(): Promise<Row> {
  const deployment = await startPythonDeployment({ keyCurve: curve });
  try {
    const app = join(import.meta.dirname, "python/noop-app");
    const r = await deployment.flwr(
      [
        "run",
        app,
        deployment.federation,
        "--stream",
        "--run-config",
        `num-server-rounds=${pythonRounds}`,
      ],
      60_000 + pythonRounds * 60_000,
    );
    if (r.code !== 0)
      throw new Error(
        `Python \`flwr run\` exited with ${r.code}:\n${r.output}\n${deployment.dump()}`,
      );
    const { times } = parseRounds(r.output, pythonRounds, "Python Flower");
    const warm = stats(times.slice(1));
    console.log(
      `Python Flower (flwr ${pythonVersion()}) round latency, same topology (2 SuperNodes, TLS + auth with ${curve} keys, subprocess isolation, no-op NumPy ClientApp, FedAvg train+evaluate):`,
    );
    console.log(`  first round: ${times[0]!.toFixed(1)} ms`);
    console.log(
      `  rounds 2..${pythonRounds}: median ${warm.median.toFixed(1)} ms, p90 ${warm.p90.toFixed(1)} ms, min ${warm.min.toFixed(1)} ms, max ${warm.max.toFixed(1)} ms`,
    );
    console.log(
      "  (Python polls: Grid every 3 s, idle SuperNode every 3 s, SuperExec every 1 s; a fresh Python ClientApp process per message)",
    );
    console.log(`  load average at the end of the run: ${loadNow()}`);
    return {
      impl: "Python Flower",
      rounds: pythonRounds,
      first: times[0]!,
      warm,
      load: loadavg()[0]!,
    };
  } finally {
    await deployment.stop();
  }
}

function pythonVersion(): string {
  return readFileSync(join(import.meta.dirname, "../interop/flwr-version.txt"), "utf8").trim();
}

/** Prints the side-by-side table; the ratio column is each row's warm median over flwr-ts's. */
function printTable(rows: Row[]): void {
  const base = rows[0]!.warm.median;
  const header = [
    "implementation",
    "rounds",
    "first ms",
    "warm median",
    "p90",
    "min",
    "ratio",
    "load 1m",
  ];
  const cells = rows.map((r) => [
    r.impl,
    String(r.rounds),
    r.first.toFixed(1),
    r.warm.median.toFixed(1),
    r.warm.p90.toFixed(1),
    r.warm.min.toFixed(1),
    `${(r.warm.median / base).toFixed(r.warm.median / base >= 10 ? 0 : 2)}×`,
    r.load.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    `  ${c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join("  ")}`;
  console.log(
    `\nround latency, same machine, same run (ms per FedAvg round; ratio = warm median / flwr-ts):`,
  );
  console.log(line(header));
  for (const c of cells) console.log(line(c));
}

try {
  const rows = [await measureFlwrTs()];
  if (pythonSkip === undefined) {
    rows.push(await measurePython());
  } else {
    // Python Flower 1.29 on the same path polls: GrpcGrid.send_and_receive pulls at once, then
    // sleeps 3 s between pulls (flwr/server/grid/grpc_grid.py); an idle SuperNode sleeps 3 s
    // between PullMessages (flwr/supernode/start_client_internal.py); its SuperExec lists apps
    // every 1 s and starts a fresh Python ClientApp process per message. A reply can never be
    // there at the Grid's immediate first pull, so each train/evaluate exchange takes >= 3 s.
    const pythonFloorMs = 2 * 3000;
    console.log(
      `Python Flower ${pythonVersion()}, same topology: not run (${pythonSkip}); at least ${pythonFloorMs} ms per round from its 3 s Grid polling alone (2 exchanges × 3 s), ≈${(pythonFloorMs / rows[0]!.warm.median).toFixed(0)}× the flwr-ts median`,
    );
  }
  printTable(rows);
  console.log(`  load average now: ${loadNow()}`);
} finally {
  await stopAll();
}
