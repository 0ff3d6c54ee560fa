/**
 * A TypeScript ServerApp on a Python flwr 1.42 SuperLink, through 1.42's Runtime API (issue #11,
 * direction b). Real processes on 127.0.0.1, free ports:
 *
 * - a Python 1.42 `flower-superlink --isolation process` (TLS, `--enable-supernode-auth`, Fleet,
 *   Control and Runtime over HTTP on one port, SuperExec HMAC auth with
 *   `--superexec-auth-secret-file`, runtime dependency installation off);
 * - both SuperNode keys registered with Python 1.42's `flwr supernode register <pub> <connection>`
 *   (`$FLWR_HOME/config.toml`);
 * - two flwr-ts `flower-supernode`s over HTTP Fleet (`--fleet-api-type http`, default subprocess
 *   isolation: they run the TypeScript ClientApp themselves);
 * - our `flower-superexec --plugin-type serverapp --runtime-api-address <the SuperLink's port>`
 *   (signed AcquireTask), which launches our `flwr-serverapp` for every `flwr-serverapp` task;
 * - our `flwr` CLI over HTTP Control with the config.toml connection.
 *
 * Checked: `flwr run <app> <connection> --stream` of `fixtures/linear-app` ends
 * `finished:completed` with every round's aggregation and the final model in the stream (the
 * ServerApp's PushLogs, also what Python's `flwr log` shows); a long run stopped with our
 * `flwr stop`, and another with Python's, is `finished:stopped` and its ServerApp process ends;
 * a SuperExec without the SuperLink's secret stops at once with one line (1.42 answers its
 * AcquireTask 401); a SIGKILLed `flwr-serverapp` makes the run `finished:failed` once 1.42's task
 * heartbeat timeout (60 s) passed. Run `pnpm build` first.
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
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { pythonFlwr, repoRoot } from "../interop/python.js";
import { generateAuthKeys, generateCertificates } from "../packages/flwr-crypto/src/index.js";
import { waitForPort } from "./fixtures/deployment.js";
import { superlink142Args } from "./fixtures/python-1.42-deployment.js";
import { launchedPids, reap } from "./fixtures/python-deployment.js";
import { freePort } from "./support/ports.js";
import { cliPath, type RunningProcess, run, start, stopAll } from "./support/processes.js";

const reference = pythonFlwr("1.42");
const connection = "py142";

/** PIDs of our `flwr-serverapp` processes launched for the Runtime API at `address`. */
function serverAppPids(address: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (argv.some((a) => a.endsWith("flwr-serverapp.js")) && argv.includes(address))
        pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  intervalMs = 300,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined || Date.now() >= deadline) return value;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

describe.skipIf(!reference.available)(
  `a TypeScript ServerApp on a Python ${reference.version} SuperLink (Runtime API)${reference.problem ? ` (skipped: ${reference.problem})` : ""}`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), "flwr-e2e-sa142-"));
    const procs: Record<string, RunningProcess> = {};
    const addresses: string[] = [];
    let env: Record<string, string>;
    let appDir: string;
    let runtimeAddress: string;
    let caCert: string;
    const py = (bin: string) => join(reference.binDir, bin);
    const dump = () =>
      Object.entries(procs)
        .map(([name, p]) => `----- ${name} -----\n${p.output().slice(-6000)}`)
        .join("\n");
    const ours = (args: string[], timeoutMs = 60_000) =>
      run(cliPath("flwr"), args, { env, cwd: dir, timeoutMs });
    const theirs = (args: string[], timeoutMs = 60_000) =>
      run(py("flwr"), args, { env, cwd: dir, timeoutMs });
    const statusOf = async (runId: string): Promise<string> => {
      const r = await ours(["ls", connection, "--run-id", runId, "--format", "json"]);
      if (r.code !== 0) return `(flwr ls failed: ${r.output})`;
      const doc = JSON.parse(r.output.slice(r.output.indexOf("{"))) as {
        runs: { status: string }[];
      };
      return doc.runs[0]?.status ?? "";
    };
    const waitStatus = (runId: string, prefix: string, timeoutMs: number) =>
      until(async () => {
        const s = await statusOf(runId);
        return s.startsWith(prefix) ? s : undefined;
      }, timeoutMs);
    /** Starts a long run with our CLI; resolves with its id once its ServerApp process runs. */
    const startLongRun = async (): Promise<{ runId: string; pid: number }> => {
      const before = new Set(serverAppPids(runtimeAddress));
      const started = await ours([
        "run",
        appDir,
        connection,
        "--run-config",
        "num-server-rounds=1000 round-delay-ms=300",
        "--format",
        "json",
      ]);
      expect(started.code, started.output).toBe(0);
      const doc = JSON.parse(started.output.slice(started.output.indexOf("{"))) as {
        "run-id": string;
      };
      const runId = String(doc["run-id"]);
      const pid = await until(
        () => serverAppPids(runtimeAddress).find((p) => !before.has(p)),
        30_000,
        100,
      );
      expect(pid, `no flwr-serverapp process for run ${runId}\n${dump()}`).toBeDefined();
      expect(await waitStatus(runId, "running", 30_000), dump()).toBe("running");
      return { runId, pid: pid! };
    };

    beforeAll(async () => {
      const certs = (await generateCertificates({ outDir: join(dir, "certificates") })).paths;
      caCert = certs.caCert;
      const keys = generateAuthKeys({ outDir: join(dir, "keys"), count: 2, curve: "P-384" });
      const secret = join(dir, "superexec-secret");
      writeFileSync(secret, "the SuperLink's SuperExec secret\n");
      const flwrHome = join(dir, "flwr-home");
      mkdirSync(flwrHome);
      const port = await freePort();
      runtimeAddress = `127.0.0.1:${port}`;
      addresses.push(runtimeAddress);
      writeFileSync(
        join(flwrHome, "config.toml"),
        `[superlink]\ndefault = "${connection}"\n\n[superlink.${connection}]\naddress = "127.0.0.1:${port}"\nroot-certificates = "${certs.caCert}"\n`,
      );
      env = {
        FLWR_HOME: flwrHome,
        NO_COLOR: "1",
        FLWR_TELEMETRY_ENABLED: "0",
        FLWR_DISABLE_UPDATE_CHECK: "1",
        PYTHONUNBUFFERED: "1",
      };
      appDir = join(dir, "linear-app");
      cpSync(join(repoRoot, "e2e/fixtures/linear-app"), appDir, { recursive: true });

      procs["superlink"] = start(
        py("flower-superlink"),
        [
          ...superlink142Args(certs, port),
          "--isolation",
          "process",
          "--superexec-auth-secret-file",
          secret,
          "--disable-runtime-dependency-installation",
        ],
        { env, cwd: dir },
      );
      await procs["superlink"].waitFor(`Uvicorn running on https://127.0.0.1:${port}`, 60_000);
      await waitForPort(port, 60_000);
      for (const key of keys) {
        const r = await theirs(["supernode", "register", key.publicKeyPath, connection], 120_000);
        expect(r.output, r.output).toMatch(/registered successfully/);
      }
      for (const [i, key] of keys.entries()) {
        procs[`supernode ${i}`] = start(
          cliPath("flower-supernode"),
          [
            "--root-certificates",
            certs.caCert,
            "--auth-supernode-private-key",
            key.privateKeyPath,
            "--superlink",
            `127.0.0.1:${port}`,
            "--fleet-api-type",
            "http",
            "--clientappio-api-address",
            `127.0.0.1:${await freePort()}`,
            "--node-config",
            `partition-id=${i}`,
          ],
          { env: { ...env, FLWR_HOME: join(dir, `node-home-${i}`) }, cwd: dir },
        );
      }
      await Promise.all(
        keys.map((_, i) => procs[`supernode ${i}`]!.waitFor("SuperNode ID", 60_000)),
      );
      procs["superexec"] = start(
        cliPath("flower-superexec"),
        [
          "--plugin-type",
          "serverapp",
          "--runtime-api-address",
          runtimeAddress,
          "--root-certificates",
          certs.caCert,
          "--superexec-auth-secret-file",
          secret,
        ],
        {
          env: {
            ...env,
            FLWR_HOME: join(dir, "superexec-home"),
            FLWR_SUPEREXEC_TASK_POLL_INTERVAL: "0.2",
          },
          cwd: dir,
        },
      );
      await procs["superexec"].waitFor("Starting Flower SuperExec", 30_000);
    }, 240_000);

    afterAll(async () => {
      if (process.env["FLWR_TS_E2E_DUMP"]) console.log(dump());
      await procs["superexec"]?.stop("SIGTERM", 5_000);
      await Promise.all(
        Object.entries(procs)
          .filter(([name]) => name.startsWith("supernode"))
          .map(([, p]) => p.stop("SIGTERM", 10_000)),
      );
      await procs["superlink"]?.stop("SIGTERM", 10_000);
      await stopAll();
      await reap([...launchedPids(addresses), ...serverAppPids(runtimeAddress)], 5_000);
      rmSync(dir, { recursive: true, force: true });
    });

    test("our flwr run --stream of the TS app completes, every round aggregating 2 replies", async () => {
      const t0 = performance.now();
      const streamed = await ours(["run", appDir, connection, "--stream"], 240_000);
      const ms = performance.now() - t0;
      const context = `${streamed.output}\n${dump()}`;
      expect(streamed.code, context).toBe(0);
      const runId = /Successfully started run (\d+)/.exec(streamed.output)?.[1];
      expect(runId, context).toBeDefined();
      for (const round of [1, 2, 3])
        expect(streamed.output, context).toContain(`[ROUND ${round}/3]`);
      const aggregated = streamed.output.match(
        /aggregate_train: Received 2 results and 0 failures/g,
      );
      expect(aggregated?.length, context).toBe(3);
      expect(streamed.output, context).toMatch(/final model: w=\[/);
      expect(await statusOf(runId!)).toBe("finished:completed");
      // The same logs through Python 1.42's own CLI (the SuperLink stored our PushLogs).
      const log = await theirs(["log", runId!, connection, "--show"]);
      expect(log.output, log.output).toMatch(/final model: w=\[/);
      process.stdout.write(
        `TS ServerApp on Python 1.42: 3-round run --stream took ${ms.toFixed(0)} ms\n`,
      );
    }, 300_000);

    test("a long run stopped with our flwr stop is finished:stopped and its ServerApp ends", async () => {
      const { runId, pid } = await startLongRun();
      const t0 = performance.now();
      const stopped = await ours(["stop", runId, connection]);
      expect(stopped.code, stopped.output).toBe(0);
      expect(await waitStatus(runId, "finished", 30_000)).toBe("finished:stopped");
      const gone = await until(() => (alive(pid) ? undefined : true), 30_000, 100);
      expect(gone, `flwr-serverapp ${pid} still running\n${dump()}`).toBe(true);
      process.stdout.write(
        `our flwr stop → ServerApp process gone: ${(performance.now() - t0).toFixed(0)} ms\n`,
      );
    }, 120_000);

    test("a long run stopped with Python 1.42's flwr stop is finished:stopped and its ServerApp ends", async () => {
      const { runId, pid } = await startLongRun();
      const t0 = performance.now();
      const stopped = await theirs(["stop", runId, connection]);
      expect(stopped.code, stopped.output).toBe(0);
      expect(await waitStatus(runId, "finished", 30_000)).toBe("finished:stopped");
      const gone = await until(() => (alive(pid) ? undefined : true), 30_000, 100);
      expect(gone, `flwr-serverapp ${pid} still running\n${dump()}`).toBe(true);
      process.stdout.write(
        `Python flwr stop → ServerApp process gone: ${(performance.now() - t0).toFixed(0)} ms\n`,
      );
    }, 120_000);

    test("a SuperExec without the SuperLink's secret stops at once with one line", async () => {
      const r = await run(
        cliPath("flower-superexec"),
        [
          "--plugin-type",
          "serverapp",
          "--runtime-api-address",
          runtimeAddress,
          "--root-certificates",
          caCert,
        ],
        { env: { ...env, FLWR_HOME: join(dir, "unsigned-home") }, cwd: dir, timeoutMs: 30_000 },
      );
      expect(r.code, r.output).toBe(1);
      expect(r.output).toMatch(
        /ERROR : +The Runtime API at 127\.0\.0\.1:\d+ refused SuperExec authentication .*requires --superexec-auth-secret-file/,
      );
      expect(r.output).not.toMatch(/\n\s+at /);
    }, 60_000);

    test("a SIGKILLed flwr-serverapp makes the run finished:failed within the heartbeat timeout", async () => {
      const { runId, pid } = await startLongRun();
      process.kill(pid, "SIGKILL");
      const t0 = performance.now();
      // 1.42 fails a running task 60 s after its last heartbeat (HEARTBEAT_PATIENCE × 30 s).
      expect(await waitStatus(runId, "finished", 90_000), dump()).toBe("finished:failed");
      process.stdout.write(
        `SIGKILLed ServerApp → run finished:failed after ${(performance.now() - t0).toFixed(0)} ms\n`,
      );
    }, 150_000);
  },
);
