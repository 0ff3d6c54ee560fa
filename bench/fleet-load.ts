/**
 * Many idle authenticated SuperNodes against one SuperLink, side by side in one run (issue #17
 * part 1). A wrapper around the shared generator `../shared/tools/loadgen/loadgen.py` (README
 * there): for each row it starts the SuperLink with `--spawn` (TLS with fresh certificates),
 * runs the same ramp with the same flags, and prints one table of
 * every step: nodes held, PullMessages p50/p99, errors, SuperLink RSS (current and peak) and CPU,
 * the generator's CPU, the verdict, and the load average when the step ended.
 *
 * | row         | SuperLink                                                       |
 * | ----------- | --------------------------------------------------------------- |
 * | `ts`        | flwr-ts `flower-superlink` (built), in-memory state             |
 * | `ts-sqlite` | the same with `--database <dir>/state.db`                       |
 * | `py-1.29`   | Python flwr 1.29's `flower-superlink` (`.venv`), in-memory state |
 *
 * Each simulated SuperNode has its own P-384 key and TCP connection, registers with Fleet
 * RegisterNode (so the SuperLinks run without `--enable-supernode-auth`, which refuses Fleet
 * registration in Flower 1.29 and here alike; every Fleet call is still signed and verified, the
 * per-call cost this bench measures), activates, pulls every 3 s and heartbeats about every 20 s, every call signed as
 * Flower's SuperNode signs it. The ramp stops at the first step with p99 > 1 s, > 1 % errors or a
 * saturated generator (loadgen's rules). The generator and the SuperLink share this machine's
 * cores: the generator CPU column is part of the limit.
 *
 *   npx tsx bench/fleet-load.ts [--steps 500,1000,2000,5000,10000] [--step-duration 60]
 *                               [--procs 2] [--rows ts,ts-sqlite,py-1.29]
 *
 * Requires `pnpm build` and the project's `.venv` (flwr 1.29, grpcio, cryptography).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../e2e/support/ports.js";
import { cliPath } from "../e2e/support/processes.js";
import {
  pythonBinDir,
  pythonFlwrAvailable,
  pythonFlwrProblem,
  pythonPath,
} from "../interop/python.js";
import { generateCertificates } from "../packages/flwr-crypto/src/index.js";

const ROW_IDS = ["ts", "ts-sqlite", "py-1.29"] as const;
type RowId = (typeof ROW_IDS)[number];
const loadgen = join(import.meta.dirname, "../../shared/tools/loadgen/loadgen.py");

const flagValue = (name: string): string | undefined =>
  process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined;
const known = new Set(["--steps", "--step-duration", "--procs", "--rows"]);
const unknown = process.argv
  .slice(2)
  .filter((a, i, all) => !known.has(a) && !known.has(all[i - 1] ?? ""));
if (unknown.length > 0) {
  console.error(
    `unknown argument ${unknown[0]}; flags: --steps N,N,... --step-duration S --procs N --rows LIST`,
  );
  process.exit(2);
}
const steps = flagValue("--steps") ?? "500,1000,2000,5000,10000";
if (
  !/^\d+(,\d+)*$/.test(steps) ||
  steps.split(",").some((n) => Number(n) < 1 || Number(n) > 50_000)
) {
  console.error("--steps takes comma-separated node counts in [1, 50000]");
  process.exit(2);
}
const stepDuration = Number(flagValue("--step-duration") ?? 60);
if (!Number.isFinite(stepDuration) || stepDuration < 5 || stepDuration > 600) {
  console.error("--step-duration must be seconds in [5, 600]");
  process.exit(2);
}
const procs = Number(flagValue("--procs") ?? 2);
if (!Number.isInteger(procs) || procs < 1 || procs > 16) {
  console.error("--procs must be an integer in [1, 16]");
  process.exit(2);
}
const requested = (flagValue("--rows") ?? ROW_IDS.join(",")).split(",").map((r) => r.trim());
if (requested.some((r) => !(ROW_IDS as readonly string[]).includes(r))) {
  console.error(`--rows takes a comma-separated list of ${ROW_IDS.join(", ")}`);
  process.exit(2);
}
const rows = ROW_IDS.filter((id) => requested.includes(id));
if (!existsSync(loadgen)) {
  console.error(`the load generator is missing: ${loadgen}`);
  process.exit(2);
}

/** One step of loadgen's JSON report (the fields the table shows). */
interface Step {
  nodes: number;
  nodes_active: number;
  pull_p50_ms: number | null;
  pull_p99_ms: number | null;
  errors: number;
  errors_by_code: Record<string, number>;
  target_rss_MiB?: number;
  target_rss_max_MiB?: number;
  target_cpu_pct?: number;
  target_cpu_ms_per_call?: number;
  gen_cpu_pct_per_worker: number[];
  verdict: string;
  /** Added here: the 1-minute load average when the step was read. */
  load?: number;
}
interface Report {
  steps: Step[];
  max_nodes_held: number;
  stop_reason: string;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs loadgen against one row's SuperLink; returns its report. */
async function measure(id: RowId, certs: Record<string, string>, dir: string): Promise<Report> {
  const fleet = await freePort();
  const control = await freePort();
  const serverappio = await freePort();
  const common = [
    "--ssl-ca-certfile",
    certs.caCert!,
    "--ssl-certfile",
    certs.serverCert!,
    "--ssl-keyfile",
    certs.serverKey!,
    "--fleet-api-address",
    `127.0.0.1:${fleet}`,
    "--control-api-address",
    `127.0.0.1:${control}`,
    "--serverappio-api-address",
    `127.0.0.1:${serverappio}`,
  ];
  const command =
    id === "py-1.29"
      ? [join(pythonBinDir, "flower-superlink"), ...common]
      : [
          process.execPath,
          cliPath("flower-superlink"),
          ...common,
          "--port",
          "0",
          ...(id === "ts-sqlite" ? ["--database", join(dir, `${id}.db`)] : []),
        ];
  const out = join(dir, `${id}.json`);
  const args = [
    loadgen,
    "--fleet",
    `127.0.0.1:${fleet}`,
    "--root-cert",
    certs.caCert!,
    "--spawn",
    command.map(quote).join(" "),
    "--spawn-log",
    join(dir, `${id}.log`),
    "--label",
    id,
    "--steps",
    steps,
    "--step-duration",
    String(stepDuration),
    "--procs",
    String(procs),
    "--out",
    out,
  ];
  const loads = new Map<number, number>();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(pythonPath, args, {
      stdio: ["ignore", "pipe", "inherit"],
      env: {
        ...process.env,
        // Python's SuperLink starts `flower-superexec` from PATH.
        PATH: `${pythonBinDir}:${process.env.PATH ?? ""}`,
        FLWR_HOME: join(dir, `home-${id}`),
        NO_COLOR: "1",
      },
    });
    let buffered = "";
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const m = /^\[loadgen\] N=(\d+)/.exec(line);
        if (m) loads.set(Number(m[1]), loadavg()[0]!);
        console.log(`  [${id}] ${line}`);
      }
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 || existsSync(out) ? resolve() : reject(new Error(`loadgen exited with ${code}`)),
    );
  });
  const report = JSON.parse(readFileSync(out, "utf8")) as Report;
  if (report.max_nodes_held === 0) {
    const log = join(dir, `${id}.log`);
    const text = existsSync(log) ? readFileSync(log, "utf8") : "";
    console.log(`  [${id}] held nothing; the SuperLink's log ends:\n${text.slice(-1500)}`);
    const samples = report.steps.flatMap(
      (s) => (s as { error_samples?: unknown }).error_samples ?? [],
    );
    if (samples.length > 0)
      console.log(`  [${id}] error samples: ${JSON.stringify(samples).slice(0, 1500)}`);
  }
  for (const s of report.steps) s.load = loads.get(s.nodes);
  return report;
}

const dir = mkdtempSync(join(tmpdir(), "flwr-ts-fleet-load-"));
try {
  const certs = (await generateCertificates({ outDir: join(dir, "certificates") })).paths;
  const reports: [RowId, Report][] = [];
  for (const id of rows) {
    if (id === "py-1.29" && !pythonFlwrAvailable) {
      console.log(`skipped py-1.29: ${pythonFlwrProblem}`);
      continue;
    }
    console.log(`${id}: ramp ${steps}, ${stepDuration} s per step, ${procs} generator processes`);
    try {
      reports.push([id, await measure(id, certs as unknown as Record<string, string>, dir)]);
    } catch (error) {
      console.error(`${id} failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    }
  }
  const header = [
    "SuperLink",
    "nodes",
    "active",
    "p50 ms",
    "p99 ms",
    "errors",
    "RSS MiB",
    "peak MiB",
    "CPU %",
    "CPU ms/call",
    "generator CPU %",
    "load 1m",
    "verdict",
  ];
  const cells = reports.flatMap(([id, r]) =>
    r.steps.map((s) => [
      id,
      String(s.nodes),
      String(s.nodes_active),
      String(s.pull_p50_ms ?? "-"),
      String(s.pull_p99_ms ?? "-"),
      s.errors === 0 ? "0" : `${s.errors} ${JSON.stringify(s.errors_by_code)}`,
      String(s.target_rss_MiB ?? "-"),
      String(s.target_rss_max_MiB ?? "-"),
      String(s.target_cpu_pct ?? "-"),
      String(s.target_cpu_ms_per_call ?? "-"),
      s.gen_cpu_pct_per_worker.join("/"),
      s.load === undefined ? "-" : s.load.toFixed(2),
      s.verdict,
    ]),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    `  ${c.map((v, i) => (i === 0 || i === c.length - 1 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join("  ")}`;
  console.log(
    `\nidle authenticated SuperNodes (TLS, P-384 keys), same generator and flags, same run (${cpus().length} cores shared with the generator):`,
  );
  console.log(line(header));
  for (const c of cells) console.log(line(c));
  for (const [id, r] of reports)
    console.log(`  ${id}: max held ${r.max_nodes_held} (${r.stop_reason})`);
  console.log(
    "  goal: 10,000 held at p99 < 200 ms, < 1 GB RSS, 0 errors; Python Flower reference in loadgen's README: 2,000 held, knee at 2,500",
  );
  console.log(
    `  load average now: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
