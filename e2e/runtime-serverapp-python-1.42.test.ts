/**
 * A Python flwr 1.42 ServerApp on OUR SuperLink, over 1.42's Runtime API (protobuf over HTTP,
 * `packages/flwr-transport/src/superlink/runtime/`). Real processes on 127.0.0.1, free ports.
 * Each scene:
 *
 * - our `flower-superlink --isolation process` (TLS, `--enable-supernode-auth`, its 1.29 gRPC
 *   ports, Fleet/Control/Runtime over HTTP on `--port`, `--superexec-auth-secret-file`, SQLite);
 * - both SuperNode keys registered with Python 1.42's `flwr supernode register <pub> e2e`
 *   (`$FLWR_HOME/config.toml` connection `e2e` = our HTTP port);
 * - two SuperNodes: Python 1.42 `flower-supernode`s over HTTP Fleet in 1.42's default subprocess
 *   isolation (each runs the Python ClientApps with its own `flower-superexec`), or flwr-ts
 *   `flower-supernode`s, one on gRPC Fleet and one on HTTP Fleet (TypeScript ClientApps);
 * - a Python 1.42 `flower-superexec` pointed at our HTTP port with the same secret (1.42's
 *   SuperExec has no `--plugin-type`: it offers every task type, our SuperLink hands out
 *   `flwr-serverapp` tasks), which launches Python's `flwr-serverapp`.
 *
 * With Python SuperNodes:
 * 1. Python 1.42's `flwr run app e2e --stream` of the Python NumPy app
 *    (`fixtures/python-numpy-app`, unchanged) ends `finished:completed`, the ServerApp's log
 *    streamed;
 * 2. a long run stopped with our `flwr stop <id> e2e`, then one stopped with Python 1.42's: the
 *    Python `flwr-serverapp` exits (its task token is revoked, its next heartbeat or Runtime call
 *    is refused) and the run is `finished:stopped`;
 * 3. a long run whose `flwr-serverapp` is SIGKILLed: no more heartbeats, the task token expires
 *    (60 s) and the run is `finished:failed` on our SuperLink.
 *
 * With flwr-ts SuperNodes: the Python ServerApp of `fixtures/mixed-runtime-app` (a FAB with a
 * TypeScript ClientApp) completes only if its instructions reach both SuperNodes, over gRPC and
 * HTTP Fleet, and their TypeScript replies come back to it.
 *
 * Both halves of flwr-ts on 1.42's Runtime API: with our `flower-superexec --plugin-type
 * serverapp` instead of Python's, our `flwr run --stream` of the TypeScript linear app completes
 * (our `flwr-serverapp` and Grid over our SuperLink's Runtime routes).
 *
 * Run `pnpm build` first. Prints the measured figures. Skipped when `.venv-1.42` is missing
 * outside CI.
 */
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { pythonFlwr, repoRoot } from "../interop/python.js";
import { ControlDefinition } from "../packages/flwr-core/src/proto/index.js";
import { generateAuthKeys, generateCertificates } from "../packages/flwr-crypto/src/index.js";
import { createHttpClient } from "../packages/flwr-transport/src/wire/http/http-client.js";
import {
  superlinkArgs,
  supernodeArgs,
  supernodeHttpFleetArgs,
  waitForPort,
} from "./fixtures/deployment.js";
import { fabOfDir } from "./fixtures/fab-of-dir.js";
import { supernode142Args } from "./fixtures/python-1.42-deployment.js";
import { launchedPids, reap } from "./fixtures/python-deployment.js";
import { freePort } from "./support/ports.js";
import { cliPath, type RunningProcess, run, start, stopAll } from "./support/processes.js";

const reference = pythonFlwr("1.42");
const numpyApp = join(repoRoot, "e2e/fixtures/python-numpy-app");
const mixedApp = join(repoRoot, "e2e/fixtures/mixed-runtime-app");
const linearApp = join(repoRoot, "e2e/fixtures/linear-app");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const figure = (line: string) => process.stdout.write(`${line}\n`);

/** PIDs of running Python `flwr-serverapp` processes whose command line names `address`. */
function serverAppPids(address: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (/\) Z /.test(stat)) continue;
      if (argv.some((a) => a.endsWith("flwr-serverapp")) && argv.some((a) => a.endsWith(address)))
        pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

type Supernodes = "python-1.42" | "flwr-ts";
type ServerExec = "python-1.42" | "flwr-ts";

/**
 * One scene: our SuperLink, two SuperNodes of the given kind (their keys registered with Python
 * 1.42's CLI) and a Python 1.42 `flower-superexec` on our Runtime API. Registers its own
 * beforeAll/afterAll; the returned getters are valid inside tests.
 */
function useScene(kind: Supernodes, serverExec: ServerExec = "python-1.42") {
  const dir = mkdtempSync(join(tmpdir(), "flwr-rtsl142-"));
  const procs: Record<string, RunningProcess> = {};
  const addresses: string[] = [];
  const sc = {
    dir,
    env: {} as Record<string, string>,
    http: 0,
    ca: "",
    control: undefined as unknown as ReturnType<typeof createHttpClient<typeof ControlDefinition>>,
    dump: () =>
      Object.entries(procs)
        .map(([name, p]) => `----- ${name} -----\n${p.output().slice(-8000)}`)
        .join("\n"),
    flwr142: async (args: string[], timeoutMs = 120_000) => {
      const r = await run(join(reference.binDir, "flwr"), args, {
        env: sc.env,
        cwd: dir,
        timeoutMs,
      });
      return { code: r.code, output: stripVTControlCharacters(r.output) };
    },
    status: async (runId: bigint) =>
      (await sc.control.listRuns({ runId })).runDict.get(runId)?.status,
    waitForStatus: async (runId: bigint, want: string, timeoutMs: number) => {
      const t0 = performance.now();
      let seen: Awaited<ReturnType<typeof sc.status>>;
      while (performance.now() - t0 < timeoutMs) {
        seen = await sc.status(runId);
        if (seen?.status === want) return { status: seen, ms: performance.now() - t0 };
        await sleep(250);
      }
      throw new Error(
        `run ${runId} never became ${want} (last ${JSON.stringify(seen)})\n${sc.dump()}`,
      );
    },
  };
  const py = (bin: string) => join(reference.binDir, bin);

  beforeAll(async () => {
    const certs = (await generateCertificates({ outDir: join(dir, "certificates") })).paths;
    sc.ca = certs.caCert;
    const keys = generateAuthKeys({ outDir: join(dir, "keys"), count: 2, curve: "P-384" });
    const secret = join(dir, "superexec-secret");
    writeFileSync(secret, "the SuperLink's SuperExec secret\n");
    const ports = {
      fleet: await freePort(),
      control: await freePort(),
      serverappio: await freePort(),
    };
    sc.http = await freePort();
    const nodePorts = [await freePort(), await freePort()];
    addresses.push(...[sc.http, ...nodePorts].map((p) => `127.0.0.1:${p}`));
    const flwrHome = join(dir, "flwr-home");
    mkdirSync(flwrHome);
    writeFileSync(
      join(flwrHome, "config.toml"),
      `[superlink]\ndefault = "e2e"\n\n[superlink.e2e]\naddress = "127.0.0.1:${sc.http}"\nroot-certificates = "${sc.ca}"\n`,
    );
    sc.env = {
      FLWR_HOME: flwrHome,
      HOME: join(dir, "home"),
      NO_COLOR: "1",
      FLWR_TELEMETRY_ENABLED: "0",
      FLWR_DISABLE_UPDATE_CHECK: "1",
      PYTHONUNBUFFERED: "1",
      // Python's SuperNodes and SuperExec launch Flower's processes from PATH: 1.42's.
      PATH: `${reference.binDir}:${process.env["PATH"] ?? ""}`,
    };
    cpSync(numpyApp, join(dir, "app"), { recursive: true });
    cpSync(linearApp, join(dir, "ts-app"), { recursive: true });

    const t0 = performance.now();
    procs["superlink"] = start(
      cliPath("flower-superlink"),
      [
        ...superlinkArgs(certs, ports),
        "--isolation",
        "process",
        "--host",
        "127.0.0.1",
        "--port",
        String(sc.http),
        "--superexec-auth-secret-file",
        secret,
        "--database",
        join(dir, "state.db"),
      ],
      { env: sc.env, cwd: dir },
    );
    await procs["superlink"].waitFor(`Starting Runtime HTTP API on 127.0.0.1:${sc.http}`, 30_000);
    await waitForPort(sc.http, 30_000);
    figure(
      `our SuperLink up (process start to HTTP port): ${(performance.now() - t0).toFixed(0)} ms`,
    );
    sc.control = createHttpClient(ControlDefinition, `https://127.0.0.1:${sc.http}`, {
      rootCertificates: sc.ca,
    });

    for (const key of keys) {
      const r = await sc.flwr142(["supernode", "register", key.publicKeyPath, "e2e"]);
      expect(r.output, r.output).toMatch(/registered successfully/);
    }
    keys.forEach((key, i) => {
      procs[`supernode ${i}`] =
        kind === "python-1.42"
          ? start(
              py("flower-supernode"),
              supernode142Args(sc.ca, key.privateKeyPath, sc.http, nodePorts[i]!, i),
              { env: sc.env, cwd: dir },
            )
          : start(
              cliPath("flower-supernode"),
              // SuperNode 0 on our gRPC Fleet (Flower 1.29's wire), SuperNode 1 on HTTP Fleet.
              i === 0
                ? supernodeArgs(sc.ca, key.privateKeyPath, ports.fleet, nodePorts[i]!, i)
                : supernodeHttpFleetArgs(
                    supernodeArgs(sc.ca, key.privateKeyPath, ports.fleet, nodePorts[i]!, i),
                    sc.http,
                  ),
              { env: { FLWR_HOME: join(dir, `ts-home-${i}`) }, cwd: dir },
            );
    });
    await Promise.all(keys.map((_, i) => procs[`supernode ${i}`]!.waitFor("SuperNode ID", 60_000)));
    procs["superexec"] = start(
      serverExec === "python-1.42" ? py("flower-superexec") : cliPath("flower-superexec"),
      [
        ...(serverExec === "flwr-ts" ? ["--plugin-type", "serverapp"] : []),
        "--runtime-api-address",
        `127.0.0.1:${sc.http}`,
        "--root-certificates",
        sc.ca,
        "--superexec-auth-secret-file",
        secret,
      ],
      {
        env: {
          ...sc.env,
          ...(serverExec === "flwr-ts" ? { FLWR_HOME: join(dir, "superexec-home") } : {}),
          FLWR_SUPEREXEC_TASK_POLL_INTERVAL: "0.5",
        },
        cwd: dir,
      },
    );
  }, 180_000);

  afterAll(async () => {
    if (process.env["FLWR_TS_E2E_DUMP"]) console.log(sc.dump());
    sc.control?.close();
    await procs["superexec"]?.stop("SIGTERM", 10_000);
    await Promise.all(
      Object.entries(procs)
        .filter(([name]) => name.startsWith("supernode"))
        .map(([, p]) => p.stop("SIGTERM", 10_000)),
    );
    await procs["superlink"]?.stop("SIGTERM", 10_000);
    await stopAll();
    await reap(launchedPids(addresses), 5_000);
    rmSync(dir, { recursive: true, force: true });
  });
  return sc;
}

describe.skipIf(!reference.available)(
  `Python ${reference.version} ServerApp on flwr-ts's SuperLink over the Runtime API${reference.problem ? ` (skipped: ${reference.problem})` : ""}`,
  () => {
    describe("with two Python 1.42 SuperNodes (HTTP Fleet)", () => {
      const sc = useScene("python-1.42");
      /** Starts a long run with Python's `flwr run` (no stream); waits until its ServerApp runs. */
      const startLongRun = async (): Promise<{ runId: bigint; pid: number }> => {
        const r = await sc.flwr142(["run", "app", "e2e", "--run-config", "num-server-rounds=1000"]);
        const id = /Successfully started run (\d+)/.exec(r.output)?.[1];
        expect(id, `${r.output}\n${sc.dump()}`).toBeDefined();
        const runId = BigInt(id!);
        await sc.waitForStatus(runId, "running", 120_000);
        let pids: number[] = [];
        for (let i = 0; i < 100 && pids.length === 0; i++) {
          pids = serverAppPids(`127.0.0.1:${sc.http}`);
          if (pids.length === 0) await sleep(100);
        }
        expect(pids.length, sc.dump()).toBe(1);
        return { runId, pid: pids[0]! };
      };

      test("Python 1.42 `flwr run --stream` of the NumPy app completes, its ServerApp's log streamed", async () => {
        const t0 = performance.now();
        const r = await sc.flwr142(["run", "app", "e2e", "--stream"], 300_000);
        const ms = performance.now() - t0;
        const context = `${r.output}\n${sc.dump()}`;
        expect(r.code, context).toBe(0);
        const id = /Successfully started run (\d+)/.exec(r.output)?.[1];
        expect(id, context).toBeDefined();
        // The ServerApp's own log lines (Flower's strategy output), streamed through our Control.
        expect(r.output, context).toMatch(/\[ROUND 3\/3\]/);
        expect(r.output, context).toMatch(/Strategy execution finished/);
        // The app's own print in its ServerApp (`numpyapp/server_app.py`).
        expect(r.output, context).toMatch(/final model: w=\[/);
        const final = await sc.status(BigInt(id!));
        expect(final, context).toEqual({ status: "finished", subStatus: "completed", details: "" });
        figure(`Python 1.42 flwr run --stream, 3 rounds, 2 Python SuperNodes: ${ms.toFixed(0)} ms`);
      }, 320_000);

      test.each([
        ["our", () => cliPath("flwr")],
        ["Python 1.42's", () => join(reference.binDir, "flwr")],
      ])(
        "%s `flwr stop` ends the Python ServerApp: run finished:stopped",
        async (who, cli) => {
          const { runId, pid } = await startLongRun();
          const address = `127.0.0.1:${sc.http}`;
          const t0 = performance.now();
          const stop = await run(cli(), ["stop", String(runId), "e2e"], {
            env: sc.env,
            cwd: sc.dir,
            timeoutMs: 60_000,
          });
          expect(stop.code, stop.output).toBe(0);
          const final = await sc.status(runId);
          expect(final?.status, sc.dump()).toBe("finished");
          expect(final?.subStatus, sc.dump()).toBe("stopped");
          // The ServerApp learns it from its next heartbeat (every ~20 s) or Runtime call (401).
          const deadline = Date.now() + 60_000;
          while (serverAppPids(address).includes(pid) && Date.now() < deadline) await sleep(200);
          expect(serverAppPids(address), sc.dump()).not.toContain(pid);
          figure(
            `${who} flwr stop → Python flwr-serverapp exited: ${(performance.now() - t0).toFixed(0)} ms`,
          );
          expect(await sc.status(runId)).toEqual(final);
        },
        240_000,
      );

      test("SIGKILL of the Python flwr-serverapp: run finished:failed on our SuperLink", async () => {
        const { runId, pid } = await startLongRun();
        process.kill(pid, "SIGKILL");
        const { status: final, ms } = await sc.waitForStatus(runId, "finished", 120_000);
        expect(final?.subStatus, sc.dump()).toBe("failed");
        expect(final?.details, sc.dump()).toMatch(/heartbeat/i);
        figure(`SIGKILL of flwr-serverapp → run finished:failed after ${(ms / 1000).toFixed(1)} s`);
      }, 240_000);
    });

    describe("with two flwr-ts SuperNodes (one on gRPC Fleet, one on HTTP Fleet)", () => {
      const sc = useScene("flwr-ts");

      test("the Python ServerApp's instructions reach TypeScript ClientApps over both Fleet wires and their replies come back", async () => {
        // One FAB: Python ServerApp (pyproject.toml, what Python's flwr-serverapp loads) and
        // TypeScript ClientApp (package.json, what our SuperNodes' flwr-clientapp loads). The
        // ServerApp raises unless every round aggregates the TS replies (`ts-marker` = 7).
        const fab = fabOfDir(mixedApp);
        const t0 = performance.now();
        const started = await sc.control.startRun({
          fab: { hashStr: fab.hash, content: Buffer.from(fab.bytes), verifications: new Map() },
          overrideConfig: new Map(),
          overrideFederationConfig: undefined,
          appSpec: "",
          federation: "",
          connectorRefs: [],
          userPrompt: "",
          connectorIds: [],
        });
        const runId = started.runId!;
        expect(runId, sc.dump()).toBeDefined();
        let logs = "";
        for await (const r of sc.control.streamLogs({ runId, afterTimestamp: 0 }))
          logs += r.logOutput;
        const ms = performance.now() - t0;
        const final = await sc.status(runId);
        const context = `status ${JSON.stringify(final)}\n----- run logs -----\n${logs}\n${sc.dump()}`;
        expect(final, context).toEqual({ status: "finished", subStatus: "completed", details: "" });
        expect(logs, context).toContain("mixedapp final: [2.0, 2.0, 2.0] (TS replies aggregated)");
        expect(logs, context).toMatch(/round 2: train \{.*'ts-marker': 7\.0/);
        figure(
          `Python ServerApp, 2 rounds, 2 flwr-ts SuperNodes (gRPC + HTTP Fleet): ${ms.toFixed(0)} ms`,
        );
      }, 300_000);
    });

    describe("flwr-ts end to end on the Runtime API (our SuperExec and flwr-serverapp)", () => {
      const sc = useScene("flwr-ts", "flwr-ts");

      test("our `flwr run --stream` of the TS linear app completes through our own Runtime API", async () => {
        const t0 = performance.now();
        const r = await run(cliPath("flwr"), ["run", join(sc.dir, "ts-app"), "e2e", "--stream"], {
          env: sc.env,
          cwd: sc.dir,
          timeoutMs: 240_000,
        });
        const ms = performance.now() - t0;
        const context = `${r.output}\n${sc.dump()}`;
        expect(r.code, context).toBe(0);
        const id = /Successfully started run (\d+)/.exec(r.output)?.[1];
        expect(id, context).toBeDefined();
        expect(
          r.output.match(/aggregate_train: Received 2 results and 0 failures/g)?.length,
          context,
        ).toBe(3);
        expect(r.output, context).toMatch(/final model: w=\[/);
        expect(await sc.status(BigInt(id!)), context).toEqual({
          status: "finished",
          subStatus: "completed",
          details: "",
        });
        figure(
          `TS ServerApp on our Runtime API, 3 rounds, 2 flwr-ts SuperNodes: ${ms.toFixed(0)} ms`,
        );
      }, 300_000);
    });
  },
);
