/**
 * The long wire fuzz (issue #12): `bench/fuzz.ts [inputs-per-service] [--python]` sends that
 * many seeded inputs (default 100,000) to each of Fleet, Control, ServerAppIo, ClientAppIo (gRPC)
 * and the HTTP routes of a flwr-ts SuperLink in this process (the inputs and rules of
 * `packages/flwr-transport/test/wire-fuzz.test.ts`), then prints per service: inputs, status
 * counts, rule violations, crashes (the process survives, or the run ends here), max latency,
 * RSS and open descriptors before and after. With `--python` it sends the same inputs to Python
 * flwr 1.29's `flower-superlink` (`.venv/`, plaintext, Fleet, Control, ServerAppIo) and prints
 * both side by side.
 * `--only API` (Fleet, Control, ServerAppIo, ClientAppIo or HTTP) fuzzes that service alone, e.g.
 * to repeat one on a quiet machine: the 1 s answer rule measures latency, so other load on the
 * cores shows up as violations.
 * Run: `npx tsx --conditions=source bench/fuzz.ts 100000 --python`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  ControlDefinition,
  FleetDefinition,
  ServerAppIoDefinition,
} from "../packages/flwr-core/src/proto/index.js";
import {
  type FuzzTarget,
  grpcTargets,
  insecureCredentials,
  openDescriptors,
  startFuzzServers,
} from "../packages/flwr-transport/test/fuzz/fuzz-harness.js";
import { type FuzzContext, fuzzInputs } from "../packages/flwr-transport/test/fuzz/fuzz-inputs.js";

const PER_SERVICE = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 100_000);
const WITH_PYTHON = process.argv.includes("--python");
const onlyAt = process.argv.indexOf("--only");
const ONLY = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;
const SEED = 12;
const CONCURRENCY = 8;

interface Tally {
  inputs: number;
  statuses: Map<string, number>;
  violations: number;
  firstViolations: string[];
  maxMs: number;
  rssBefore: number;
  rssAfter: number;
  fdsBefore: number;
  fdsAfter: number;
}

/** Sends `perService` inputs spread over the service's rpcs; `rss`/`fds` read the server's. */
async function fuzzService(
  targets: FuzzTarget[],
  context: FuzzContext,
  perService: number,
  rss: () => number,
  fds: () => number,
): Promise<Tally> {
  const tally: Tally = {
    inputs: 0,
    statuses: new Map(),
    violations: 0,
    firstViolations: [],
    maxMs: 0,
    rssBefore: rss(),
    rssAfter: 0,
    fdsBefore: fds(),
    fdsAfter: 0,
  };
  const perRpc = Math.ceil(perService / targets.length);
  for (const [i, target] of targets.entries()) {
    // Generated in slices so 100,000 inputs never sit in memory at once.
    for (let done = 0; done < perRpc; done += 1000) {
      const inputs = fuzzInputs(
        target.method,
        context,
        Math.min(1000, perRpc - done),
        SEED * 1_000_003 + i * 7919 + done,
      );
      for (let k = 0; k < inputs.length; k += CONCURRENCY) {
        const answers = await Promise.all(
          inputs.slice(k, k + CONCURRENCY).map((input) => target.call(input)),
        );
        for (const a of answers) {
          tally.inputs += 1;
          tally.statuses.set(a.status, (tally.statuses.get(a.status) ?? 0) + 1);
          tally.maxMs = Math.max(tally.maxMs, a.ms);
          if (a.violation) {
            tally.violations += 1;
            if (tally.firstViolations.length < 3)
              tally.firstViolations.push(`${target.name}: ${a.violation}`);
          }
        }
      }
    }
  }
  tally.rssAfter = rss();
  tally.fdsAfter = fds();
  return tally;
}

function print(side: string, service: string, t: Tally): void {
  const statuses = [...t.statuses]
    .sort((a, b) => b[1] - a[1])
    .map(([s, n]) => `${s} ${n}`)
    .join(", ");
  console.log(
    `${side.padEnd(8)} ${service.padEnd(12)} inputs ${t.inputs}, crashes 0, violations ${t.violations}, max ${t.maxMs.toFixed(0)} ms, RSS ${(t.rssBefore / 1e6).toFixed(0)} -> ${(t.rssAfter / 1e6).toFixed(0)} MB, fds ${t.fdsBefore} -> ${t.fdsAfter}\n         ${statuses}`,
  );
  for (const v of t.firstViolations) console.log(`         ! ${v}`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function procRss(pid: number): number {
  let text = "";
  try {
    text = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return 0; // exited: reported below
  }
  const m = /VmRSS:\s+(\d+) kB/.exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

const groups = new Map<string, FuzzTarget[]>();
const servers = await startFuzzServers();
for (const t of servers.targets)
  if (ONLY === undefined || t.api === ONLY) groups.set(t.api, [...(groups.get(t.api) ?? []), t]);
if (groups.size === 0) {
  console.error(
    `--only ${ONLY}: no such service; choose Fleet, Control, ServerAppIo, ClientAppIo or HTTP`,
  );
  await servers.stop();
  process.exit(2);
}
const results: [string, string, Tally][] = [];
for (const [api, targets] of groups) {
  const tally = await fuzzService(
    targets,
    servers.context,
    PER_SERVICE,
    () => process.memoryUsage().rss,
    openDescriptors,
  );
  results.push(["flwr-ts", api, tally]);
  print("flwr-ts", api, tally);
}
await servers.stop();

if (WITH_PYTHON) {
  const [fleet, control, appio] = [await freePort(), await freePort(), await freePort()];
  const bin = join(import.meta.dirname, "../.venv/bin/flower-superlink");
  const py: ChildProcess = spawn(
    bin,
    [
      "--insecure",
      "--fleet-api-address",
      `127.0.0.1:${fleet}`,
      "--control-api-address",
      `127.0.0.1:${control}`,
      "--serverappio-api-address",
      `127.0.0.1:${appio}`,
      "--isolation",
      "process",
    ],
    {
      stdio: "ignore",
      env: {
        ...process.env,
        PATH: `${dirname(bin)}:${process.env["PATH"] ?? ""}`,
        FLWR_HOME: mkdtempSync(join(tmpdir(), "flwr-fuzz-py-")),
      },
    },
  );
  // Flower 1.29 prints nothing machine-readable on start: wait for the ServerAppIo port.
  for (let i = 0; i < 100 && !(await portOpen(appio)); i++)
    await new Promise((r) => setTimeout(r, 200));
  if (py.exitCode !== null) throw new Error(`flower-superlink exited (${py.exitCode})`);
  const pid = py.pid!;
  const context: FuzzContext = { nodeId: 1n, runId: 1n, token: "0".repeat(32) };
  const plain = insecureCredentials();
  for (const [api, service, port] of [
    ["Fleet", FleetDefinition, fleet],
    ["Control", ControlDefinition, control],
    ["ServerAppIo", ServerAppIoDefinition, appio],
  ] as const) {
    const g = grpcTargets(api, service, `127.0.0.1:${port}`, plain);
    const tally = await fuzzService(
      g.targets,
      context,
      PER_SERVICE,
      () => procRss(pid),
      () => readdirSync(`/proc/${pid}/fd`).length,
    );
    g.close();
    results.push(["py-1.29", api, tally]);
    print("py-1.29", api, tally);
  }
  const alive = py.exitCode === null;
  py.kill("SIGTERM");
  console.log(`Python SuperLink ${alive ? "survived" : `exited (${py.exitCode})`}`);
}
console.log("\nside by side (inputs, violations, max ms, RSS before -> after MB)");
for (const [side, api, t] of results)
  console.log(
    `  ${side.padEnd(8)} ${api.padEnd(12)} ${t.inputs}  ${t.violations}  ${t.maxMs.toFixed(0)}  ${(t.rssBefore / 1e6).toFixed(0)} -> ${(t.rssAfter / 1e6).toFixed(0)}`,
  );
