/**
 * Round latency of real deployments, side by side in one run. Each row is a SuperLink and two
 * SuperNodes (separate processes, TLS + SuperNode authentication, subprocess isolation), a no-op
 * ClientApp and FedAvg (train + evaluate on both nodes) for N rounds. Each round's wall time is
 * taken from timestamps the ServerApp logs (streamed back with `flwr run --stream`); the first
 * round (cold ClientApp processes) is reported apart. The rows (`--rows`, default all four):
 *
 * | row       | deployment                                                                       |
 * | --------- | -------------------------------------------------------------------------------- |
 * | `ts-grpc` | flwr-ts SuperLink + SuperNodes, Fleet over gRPC (`e2e/fixtures/deployment.ts`)   |
 * | `ts-http` | the same, the SuperNodes on the SuperLink's HTTP Fleet API (Flower 1.42's wire; the `flwr` CLI stays on gRPC Control) |
 * | `ts-runtime` | `ts-grpc` with the ServerApp on Flower 1.42's Runtime API instead of 1.29's ServerAppIo (`--isolation process`, our `flower-superexec --plugin-type serverapp --runtime-api-address`, SuperExec HMAC auth) |
 * | `py-1.29` | Python flwr 1.29 (`.venv`), gRPC everywhere (`e2e/fixtures/python-deployment.ts`) |
 * | `py-1.42` | Python flwr 1.42 (`.venv-1.42`), Fleet, Control and Runtime over HTTP on one port (`e2e/fixtures/python-1.42-deployment.ts`) |
 *
 * Same certificates generator, key curve, TLS, SuperNode auth and isolation mode everywhere; the
 * flwr-ts rows run the TypeScript no-op app written below, the Python rows the NumPy no-op app
 * `bench/python/noop-app` (unchanged for 1.42; copied before 1.42's `flwr run`, which may rewrite
 * a pyproject) started with Python `flwr run --stream`. The table's ratio column is each row's
 * warm median over the first flwr-ts row's; with both flwr-ts rows it also prints flwr-ts's
 * HTTP/gRPC ratio (the goal: HTTP Fleet not more than 20 % slower than gRPC).
 *
 *   npx tsx bench/round-latency.ts [rounds=30] [--trace] [--curve P-256|P-384|P-521]
 *                                  [--python-rounds 3] [--no-python]
 *                                  [--rows ts-grpc,ts-http,ts-runtime,py-1.29,py-1.42]
 *
 * `rounds` applies to the flwr-ts rows. `--curve` picks the SuperNode keys' curve (default P-384,
 * as the seed's `ssh-keygen -b 384`): every Fleet call is signed by the SuperNode and verified by
 * the SuperLink, and a P-384 signature costs about 25× a P-256 one in Node's OpenSSL. `--trace`
 * runs the flwr-ts rows with FLWR_TS_TRACE and prints the hop timeline of each one's median warm
 * round.
 *
 * `--python-rounds` (default 3) sets the Python rows' rounds: Python Flower polls (Grid every
 * 3 s, SuperNode every 3 s, SuperExec every 1 s, in 1.29 and 1.42 alike), so each of its rounds
 * takes seconds. `--no-python` drops both Python rows (so does a missing or wrong Python flwr, per
 * release; the bench then prints the polling floor).
 *
 * Requires `pnpm build`.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { startDeployment } from "../e2e/fixtures/deployment.js";
import { startPython142Deployment } from "../e2e/fixtures/python-1.42-deployment.js";
import { startPythonDeployment } from "../e2e/fixtures/python-deployment.js";
import { stopAll } from "../e2e/support/processes.js";
import { pythonFlwr, pythonFlwrAvailable, pythonFlwrProblem } from "../interop/python.js";

/** The rows the bench can measure, in the order they run and are printed. */
const ROW_IDS = ["ts-grpc", "ts-http", "ts-runtime", "py-1.29", "py-1.42"] as const;
type RowId = (typeof ROW_IDS)[number];
const isRowId = (s: string): s is RowId => (ROW_IDS as readonly string[]).includes(s);

const valued = new Set(["--curve", "--python-rounds", "--rows"]);
const flagValue = (name: string): string | undefined =>
  process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined;
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
const curveArg = flagValue("--curve") ?? "P-384";
if (curveArg !== "P-256" && curveArg !== "P-384" && curveArg !== "P-521") {
  console.error("--curve must be P-256, P-384 or P-521");
  process.exit(2);
}
const curve: "P-256" | "P-384" | "P-521" = curveArg;
const pythonRounds = Number(flagValue("--python-rounds") ?? 3);
if (!Number.isInteger(pythonRounds) || pythonRounds < 2) {
  console.error("--python-rounds must be an integer >= 2 (the first round is reported apart)");
  process.exit(2);
}
const rowsArg = flagValue("--rows");
const requested = rowsArg === undefined ? [...ROW_IDS] : rowsArg.split(",").map((r) => r.trim());
const unknownRows = requested.filter((r) => !isRowId(r));
if (unknownRows.length > 0 || requested.length === 0) {
  console.error(`--rows takes a comma-separated list of ${ROW_IDS.join(", ")}`);
  process.exit(2);
}
/** The rows to run, in {@link ROW_IDS} order. */
const selectedRows = ROW_IDS.filter((id) => requested.includes(id));

/** Why each selected row is skipped; rows not in it run. */
function skipReasons(): Map<RowId, string> {
  const skip = new Map<RowId, string>();
  const noPython = process.argv.includes("--no-python");
  for (const id of selectedRows) {
    if (id === "py-1.29") {
      if (noPython) skip.set(id, "--no-python");
      else if (!pythonFlwrAvailable) skip.set(id, pythonFlwrProblem ?? "Python flwr 1.29 missing");
    } else if (id === "py-1.42") {
      if (noPython) skip.set(id, "--no-python");
      else {
        const ref = pythonFlwr("1.42");
        if (!ref.available) skip.set(id, ref.problem ?? "Python flwr 1.42 missing");
      }
    }
  }
  return skip;
}

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
  id: RowId;
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

/** Prints a row's first-round and warm-round figures. */
function printFigures(times: number[], firstLabel: string): ReturnType<typeof stats> {
  const warm = stats(times.slice(1));
  console.log(`  first round${firstLabel}: ${times[0]!.toFixed(1)} ms`);
  console.log(
    `  rounds 2..${times.length}: median ${warm.median.toFixed(1)} ms, p90 ${warm.p90.toFixed(1)} ms, min ${warm.min.toFixed(1)} ms, max ${warm.max.toFixed(1)} ms`,
  );
  return warm;
}

/**
 * Runs the flwr-ts deployment for `rounds` rounds with its SuperNodes on the SuperLink's gRPC
 * Fleet port or its HTTP API, and its ServerApp on 1.29's ServerAppIo or 1.42's Runtime API;
 * prints its details, returns its row.
 */
async function measureFlwrTs(
  fleet: "grpc" | "http",
  serverAppApi: "appio" | "runtime" = "appio",
): Promise<Row> {
  const traceFile = withTrace
    ? join(mkdtempSync(join(tmpdir(), "flwr-ts-trace-")), "trace.jsonl")
    : undefined;
  const runtime = serverAppApi === "runtime";
  const wireName = `${fleet === "http" ? "HTTP" : "gRPC"} Fleet${runtime ? ", ServerApp on the Runtime API" : ""}`;
  const deployment = await startDeployment({
    app: noopApp(),
    keyCurve: curve,
    supernodeFleet: fleet,
    serverAppApi,
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
    const { times, ends } = parseRounds(r.output, rounds, `flwr-ts (${wireName})`);
    console.log(
      `flwr-ts round latency, SuperNodes on ${wireName}${fleet === "http" ? ` (port ${deployment.ports.http}; CLI on gRPC Control)` : ""} (2 SuperNodes, TLS + auth with ${curve} keys, no-op ClientApp, FedAvg train+evaluate)${traceFile ? " — TRACING ON" : ""}:`,
    );
    const warm = printFigures(times, " (cold ClientApp processes)");
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
    return {
      id: runtime ? "ts-runtime" : fleet === "http" ? "ts-http" : "ts-grpc",
      impl: runtime ? "flwr-ts, Runtime API" : `flwr-ts, ${wireName}`,
      rounds,
      first: times[0]!,
      warm,
      load: loadavg()[0]!,
    };
  } finally {
    await deployment.stop();
  }
}

/** The Python no-op app (`bench/python/noop-app`, the same for 1.29 and 1.42). */
const pythonApp = join(import.meta.dirname, "python/noop-app");

/**
 * Runs the same topology on Python Flower `reference` for `pythonRounds` rounds with the no-op
 * NumPy app, started by that release's `flwr run --stream`, returns its row.
 */
async function measurePython(reference: "1.29" | "1.42"): Promise<Row> {
  const started =
    reference === "1.29"
      ? await startPythonDeployment({ keyCurve: curve }).then((d) => ({
          deployment: d,
          connection: d.federation,
          version: pinnedVersion(),
          app: pythonApp,
          wire: "gRPC Fleet, Control, ServerAppIo, ClientAppIo",
        }))
      : await startPython142Deployment({ keyCurve: curve }).then((d) => {
          // 1.42's `flwr run <path>` migrates (rewrites) a pyproject that has federations; the
          // app has none, but a copy keeps the repository's file out of reach anyway.
          const app = join(d.dir, "noop-app");
          cpSync(pythonApp, app, { recursive: true });
          return {
            deployment: d,
            connection: d.connection,
            version: d.version,
            app,
            wire: `HTTP Fleet, Control and Runtime on one port (${d.ports.http})`,
          };
        });
  const { deployment, connection, version, app, wire } = started;
  try {
    const r = await deployment.flwr(
      ["run", app, connection, "--stream", "--run-config", `num-server-rounds=${pythonRounds}`],
      60_000 + pythonRounds * 60_000,
    );
    if (r.code !== 0)
      throw new Error(
        `Python ${version} \`flwr run\` exited with ${r.code}:\n${r.output}\n${deployment.dump()}`,
      );
    const { times } = parseRounds(r.output, pythonRounds, `Python Flower ${version}`);
    console.log(
      `Python Flower (flwr ${version}, ${wire}) round latency, same topology (2 SuperNodes, TLS + auth with ${curve} keys, subprocess isolation, no-op NumPy ClientApp, FedAvg train+evaluate):`,
    );
    const warm = printFigures(times, "");
    console.log(
      "  (Python polls: Grid every 3 s, idle SuperNode every 3 s, SuperExec every 1 s; a fresh Python ClientApp process per message)",
    );
    console.log(`  load average at the end of the run: ${loadNow()}`);
    return {
      id: reference === "1.29" ? "py-1.29" : "py-1.42",
      impl: `Python Flower ${version}`,
      rounds: pythonRounds,
      first: times[0]!,
      warm,
      load: loadavg()[0]!,
    };
  } finally {
    await deployment.stop();
  }
}

/** The 1.29 reference's pinned version (`interop/flwr-version.txt`). */
function pinnedVersion(): string {
  return readFileSync(join(import.meta.dirname, "../interop/flwr-version.txt"), "utf8").trim();
}

const fmtRatio = (x: number) => `${x.toFixed(x >= 10 ? 0 : 2)}×`;

/** Prints the side-by-side table; the ratio column is each row's warm median over `base`'s. */
function printTable(rows: Row[], base: Row): void {
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
    fmtRatio(r.warm.median / base.warm.median),
    r.load.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    `  ${c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join("  ")}`;
  console.log(
    `\nround latency, same machine, same run (ms per FedAvg round; ratio = warm median / ${base.impl}):`,
  );
  console.log(line(header));
  for (const c of cells) console.log(line(c));
}

/** Python's polling floor for a row that did not run, relative to the flwr-ts median if any. */
function pythonFloorNote(id: "py-1.29" | "py-1.42", reason: string, tsMedian?: number): string {
  // Python Flower on this path polls, 1.29 and 1.42 alike: the Grid's send_and_receive pulls at
  // once, then sleeps 3 s between pulls (1.29 flwr/server/grid/grpc_grid.py, 1.42
  // flwr/superlink/grid/http_grid.py); an idle SuperNode sleeps 3 s between PullMessages
  // (flwr/supernode/start_client_internal.py); its SuperExec polls every 1 s and starts a fresh
  // Python ClientApp process per message. A reply can never be there at the Grid's immediate first
  // pull, so each train/evaluate exchange takes >= 3 s.
  const floorMs = 2 * 3000;
  const version = id === "py-1.29" ? pinnedVersion() : pythonFlwr("1.42").version;
  return `Python Flower ${version}, same topology: not run (${reason}); at least ${floorMs} ms per round from its 3 s Grid polling alone (2 exchanges × 3 s)${tsMedian === undefined ? "" : `, ≈${(floorMs / tsMedian).toFixed(0)}× the flwr-ts median`}`;
}

/** flwr-ts's HTTP/gRPC Fleet comparison (the goal: HTTP at most 20 % slower). */
function printHttpGrpcRatio(grpc: Row, http: Row): void {
  const median = http.warm.median / grpc.warm.median;
  const p90 = http.warm.p90 / grpc.warm.p90;
  const min = http.warm.min / grpc.warm.min;
  console.log(
    `  flwr-ts HTTP/gRPC Fleet: warm median ${http.warm.median.toFixed(1)} / ${grpc.warm.median.toFixed(1)} ms = ${median.toFixed(2)}× (p90 ${p90.toFixed(2)}×, min ${min.toFixed(2)}×); goal ≤ 1.20×: ${median <= 1.2 ? "met" : "NOT met"}`,
  );
}

try {
  const skip = skipReasons();
  const rows: Row[] = [];
  const failed: string[] = [];
  for (const id of selectedRows) {
    if (skip.has(id)) continue;
    try {
      if (id === "ts-grpc") rows.push(await measureFlwrTs("grpc"));
      else if (id === "ts-http") rows.push(await measureFlwrTs("http"));
      else if (id === "ts-runtime") rows.push(await measureFlwrTs("grpc", "runtime"));
      else rows.push(await measurePython(id === "py-1.29" ? "1.29" : "1.42"));
    } catch (error) {
      // One broken row does not lose the others' figures; the exit status says it failed.
      console.error(`${id} failed: ${error instanceof Error ? error.message : String(error)}`);
      failed.push(id);
      process.exitCode = 1;
    }
  }
  const tsRows = rows.filter((r) => r.id.startsWith("ts-"));
  for (const [id, reason] of skip) {
    if (id === "py-1.29" || id === "py-1.42")
      console.log(pythonFloorNote(id, reason, tsRows[0]?.warm.median));
    else console.log(`flwr-ts, HTTP Fleet: not run (${reason})`);
  }
  if (rows.length > 0) {
    printTable(rows, tsRows[0] ?? rows[0]!);
    const grpc = rows.find((r) => r.id === "ts-grpc");
    const http = rows.find((r) => r.id === "ts-http");
    if (grpc && http) printHttpGrpcRatio(grpc, http);
  }
  for (const [id, reason] of skip) console.log(`  skipped ${id}: ${reason}`);
  for (const id of failed) console.log(`  FAILED ${id} (see its error above)`);
  console.log(`  load average now: ${loadNow()}`);
} finally {
  await stopAll();
}
