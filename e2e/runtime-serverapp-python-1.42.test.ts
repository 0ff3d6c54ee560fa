/**
 * A Python flwr 1.42 ServerApp on OUR SuperLink, over 1.42's Runtime API (protobuf over HTTP,
 * `packages/flwr-transport/src/superlink/runtime/`). Real processes on 127.0.0.1, free ports:
 *
 * - our `flower-superlink --isolation process` (TLS, `--enable-supernode-auth`, its 1.29 gRPC
 *   ports, Fleet/Control/Runtime over HTTP on `--port`, `--superexec-auth-secret-file`);
 * - both SuperNode keys registered with Python 1.42's `flwr supernode register <pub> e2e`
 *   (`$FLWR_HOME/config.toml` connection `e2e` = our HTTP port);
 * - two Python 1.42 `flower-supernode`s over HTTP Fleet, 1.42's default subprocess isolation
 *   (each runs the Python ClientApps with its own `flower-superexec`);
 * - a Python 1.42 `flower-superexec` pointed at our HTTP port with the same secret (1.42's
 *   SuperExec has no `--plugin-type`: it offers every task type, our SuperLink hands out
 *   `flwr-serverapp` tasks), which launches Python's `flwr-serverapp`.
 *
 * 1. Python 1.42's `flwr run . e2e --stream` of the Python NumPy app (`fixtures/python-numpy-app`,
 *    unchanged) ends `finished:completed` with the ServerApp's log streamed.
 * 2. A long run stopped with OUR `flwr stop <id> e2e`: the Python `flwr-serverapp` exits (its
 *    task token is revoked, its next heartbeat is refused) and the run is `finished:stopped`.
 * 3. A long run whose `flwr-serverapp` is SIGKILLed: no more heartbeats, the task token expires
 *    (60 s) and the run is `finished:failed` on our SuperLink.
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
import { superlinkArgs, waitForPort } from "./fixtures/deployment.js";
import { supernode142Args } from "./fixtures/python-1.42-deployment.js";
import { launchedPids, reap } from "./fixtures/python-deployment.js";
import { freePort } from "./support/ports.js";
import { cliPath, type RunningProcess, run, start, stopAll } from "./support/processes.js";

const reference = pythonFlwr("1.42");
const numpyApp = join(repoRoot, "e2e/fixtures/python-numpy-app");
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

describe.skipIf(!reference.available)(
  `Python ${reference.version} ServerApp on flwr-ts's SuperLink over the Runtime API${reference.problem ? ` (skipped: ${reference.problem})` : ""}`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), "flwr-rtsl142-"));
    const procs: Record<string, RunningProcess> = {};
    const addresses: string[] = [];
    let env: Record<string, string>;
    let http = 0;
    let ca = "";
    let control: ReturnType<typeof createHttpClient<typeof ControlDefinition>>;
    const dump = () =>
      Object.entries(procs)
        .map(([name, p]) => `----- ${name} -----\n${p.output().slice(-8000)}`)
        .join("\n");
    const py = (bin: string) => join(reference.binDir, bin);
    const flwr142 = async (args: string[], timeoutMs = 120_000) => {
      const r = await run(py("flwr"), args, { env, cwd: dir, timeoutMs });
      return { code: r.code, output: stripVTControlCharacters(r.output) };
    };
    const status = async (runId: bigint) =>
      (await control.listRuns({ runId })).runDict.get(runId)?.status;
    const waitForStatus = async (runId: bigint, want: string, timeoutMs: number) => {
      const t0 = performance.now();
      let seen: Awaited<ReturnType<typeof status>>;
      while (performance.now() - t0 < timeoutMs) {
        seen = await status(runId);
        if (seen?.status === want) return { status: seen, ms: performance.now() - t0 };
        await sleep(250);
      }
      throw new Error(
        `run ${runId} never became ${want} (last ${JSON.stringify(seen)})\n${dump()}`,
      );
    };
    /** Starts a long run with Python's `flwr run` (no stream) and waits until it runs. */
    const startLongRun = async (): Promise<bigint> => {
      const r = await flwr142(["run", "app", "e2e", "--run-config", "num-server-rounds=1000"]);
      const id = /Successfully started run (\d+)/.exec(r.output)?.[1];
      expect(id, `${r.output}\n${dump()}`).toBeDefined();
      const runId = BigInt(id!);
      await waitForStatus(runId, "running", 120_000);
      return runId;
    };

    beforeAll(async () => {
      const certs = (await generateCertificates({ outDir: join(dir, "certificates") })).paths;
      ca = certs.caCert;
      const keys = generateAuthKeys({ outDir: join(dir, "keys"), count: 2, curve: "P-384" });
      const secret = join(dir, "superexec-secret");
      writeFileSync(secret, "the SuperLink's SuperExec secret\n");
      const ports = {
        fleet: await freePort(),
        control: await freePort(),
        serverappio: await freePort(),
      };
      http = await freePort();
      const runtimePorts = [await freePort(), await freePort()];
      addresses.push(...[http, ...runtimePorts].map((p) => `127.0.0.1:${p}`));
      const flwrHome = join(dir, "flwr-home");
      mkdirSync(flwrHome);
      writeFileSync(
        join(flwrHome, "config.toml"),
        `[superlink]\ndefault = "e2e"\n\n[superlink.e2e]\naddress = "127.0.0.1:${http}"\nroot-certificates = "${ca}"\n`,
      );
      env = {
        FLWR_HOME: flwrHome,
        HOME: join(dir, "home"),
        NO_COLOR: "1",
        FLWR_TELEMETRY_ENABLED: "0",
        FLWR_DISABLE_UPDATE_CHECK: "1",
        PYTHONUNBUFFERED: "1",
        // The SuperNodes and the SuperExec launch Flower's processes from PATH: 1.42's.
        PATH: `${reference.binDir}:${process.env["PATH"] ?? ""}`,
      };
      cpSync(numpyApp, join(dir, "app"), { recursive: true });

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
          String(http),
          "--superexec-auth-secret-file",
          secret,
          "--database",
          join(dir, "state.db"),
        ],
        { env, cwd: dir },
      );
      await procs["superlink"].waitFor(`Starting Runtime HTTP API on 127.0.0.1:${http}`, 30_000);
      await waitForPort(http, 30_000);
      figure(
        `our SuperLink up (process start to HTTP port): ${(performance.now() - t0).toFixed(0)} ms`,
      );
      control = createHttpClient(ControlDefinition, `https://127.0.0.1:${http}`, {
        rootCertificates: ca,
      });

      for (const key of keys) {
        const r = await flwr142(["supernode", "register", key.publicKeyPath, "e2e"]);
        expect(r.output, r.output).toMatch(/registered successfully/);
      }
      keys.forEach((key, i) => {
        procs[`supernode ${i}`] = start(
          py("flower-supernode"),
          supernode142Args(ca, key.privateKeyPath, http, runtimePorts[i]!, i),
          { env, cwd: dir },
        );
      });
      await Promise.all(
        keys.map((_, i) => procs[`supernode ${i}`]!.waitFor("SuperNode ID", 60_000)),
      );
      procs["superexec"] = start(
        py("flower-superexec"),
        [
          "--runtime-api-address",
          `127.0.0.1:${http}`,
          "--root-certificates",
          ca,
          "--superexec-auth-secret-file",
          secret,
        ],
        { env: { ...env, FLWR_SUPEREXEC_TASK_POLL_INTERVAL: "0.5" }, cwd: dir },
      );
    }, 180_000);

    afterAll(async () => {
      if (process.env["FLWR_TS_E2E_DUMP"]) console.log(dump());
      control?.close();
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

    test("Python 1.42 `flwr run --stream` of the NumPy app completes, its ServerApp's log streamed", async () => {
      const t0 = performance.now();
      const r = await flwr142(["run", "app", "e2e", "--stream"], 300_000);
      const ms = performance.now() - t0;
      const context = `${r.output}\n${dump()}`;
      expect(r.code, context).toBe(0);
      const id = /Successfully started run (\d+)/.exec(r.output)?.[1];
      expect(id, context).toBeDefined();
      // The ServerApp's own log lines (Flower's strategy output), streamed through our Control.
      expect(r.output, context).toMatch(/\[ROUND 3\/3\]/);
      expect(r.output, context).toMatch(/Strategy execution finished/);
      // The app's own print in its ServerApp (`numpyapp/server_app.py`).
      expect(r.output, context).toMatch(/final model: w=\[/);
      const final = await status(BigInt(id!));
      expect(final, context).toEqual({ status: "finished", subStatus: "completed", details: "" });
      figure(`Python 1.42 flwr run --stream, 3 rounds, 2 Python SuperNodes: ${ms.toFixed(0)} ms`);
    }, 320_000);

    test("our `flwr stop` ends the Python ServerApp: run finished:stopped", async () => {
      const runId = await startLongRun();
      const address = `127.0.0.1:${http}`;
      let pids: number[] = [];
      for (let i = 0; i < 100 && pids.length === 0; i++) {
        pids = serverAppPids(address);
        if (pids.length === 0) await sleep(100);
      }
      expect(pids.length, dump()).toBe(1);
      const t0 = performance.now();
      const stop = await run(cliPath("flwr"), ["stop", String(runId), "e2e"], {
        env: { FLWR_HOME: env["FLWR_HOME"]! },
        cwd: dir,
        timeoutMs: 30_000,
      });
      expect(stop.code, stop.output).toBe(0);
      const final = await status(runId);
      expect(final?.status, dump()).toBe("finished");
      expect(final?.subStatus, dump()).toBe("stopped");
      // The ServerApp learns it from its next heartbeat (every ~20 s) or Runtime call (401).
      const deadline = Date.now() + 60_000;
      while (serverAppPids(address).includes(pids[0]!) && Date.now() < deadline) await sleep(200);
      expect(serverAppPids(address), dump()).not.toContain(pids[0]);
      figure(`flwr stop → Python flwr-serverapp exited: ${(performance.now() - t0).toFixed(0)} ms`);
      expect(await status(runId)).toEqual(final);
    }, 240_000);

    test("SIGKILL of the Python flwr-serverapp: run finished:failed on our SuperLink", async () => {
      const runId = await startLongRun();
      const address = `127.0.0.1:${http}`;
      let pids: number[] = [];
      for (let i = 0; i < 100 && pids.length === 0; i++) {
        pids = serverAppPids(address);
        if (pids.length === 0) await sleep(100);
      }
      expect(pids.length, dump()).toBe(1);
      process.kill(pids[0]!, "SIGKILL");
      const t0 = performance.now();
      const { status: final, ms } = await waitForStatus(runId, "finished", 120_000);
      expect(final?.subStatus, dump()).toBe("failed");
      expect(final?.details, dump()).toMatch(/heartbeat/i);
      figure(
        `SIGKILL of flwr-serverapp → run finished:failed after ${(ms / 1000).toFixed(1)} s (${(performance.now() - t0).toFixed(0)} ms)`,
      );
    }, 240_000);
  },
);
