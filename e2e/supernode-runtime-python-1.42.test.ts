/**
 * Issue 11 (c), both halves in one run: a Python flwr 1.42 SuperNode served by flwr-ts's
 * SuperExec, and a flwr-ts SuperNode served by a Python 1.42 `flower-superexec`, over Flower
 * 1.42's Runtime API (protobuf over HTTPS). Real processes on 127.0.0.1, free ports, TLS and
 * SuperNode authentication everywhere:
 *
 * - a Python 1.42 `flower-superlink` (Fleet, Control and Runtime over HTTP on one port, its
 *   default subprocess isolation: it runs the Python ServerApp with its own `flower-superexec`);
 *   both SuperNode keys registered with Python 1.42's `flwr supernode register`;
 * - **Python SuperNode, flwr-ts SuperExec**: a Python 1.42 `flower-supernode --isolation
 *   process` with its Runtime API on a free `--port` (TLS, `--superexec-auth-secret-file`),
 *   served by our `flower-superexec --runtime-api-address … --plugin-type clientapp`, which
 *   runs the TypeScript ClientApp (`client_app.ts`, `ts-marker` 7) in our `flwr-clientapp`;
 * - **flwr-ts SuperNode, Python SuperExec**: our `flower-supernode` over HTTP Fleet
 *   (`--fleet-api-type http`), `--isolation process`, serving 1.42's SuperNode Runtime API on
 *   `--host/--port` with `--ssl-*` and another `--superexec-auth-secret-file`
 *   (`supernode/runtime/`), served by a Python 1.42 `flower-superexec --runtime-api-address`
 *   (no `--plugin-type`: it asks for every task type), which launches Python's `flwr-clientapp`
 *   running the Python ClientApp (`mixedapp/client_app.py`, `ts-marker` 3).
 *
 * One FAB (`fixtures/mixed-runtime-app`: Python ServerApp and ClientApp in `pyproject.toml`, the
 * TypeScript ClientApp in `package.json`), zipped as it is and submitted with Control StartRun
 * over 1.42's HTTP API with `expected-ts-marker = 5`: the Python ServerApp raises unless, in
 * every round, the aggregate is what both ClientApps compute and the weighted `ts-marker`
 * average is 5 — only when both nodes' replies (TS 7, Python 3, equal weights) were aggregated.
 * The run must end `finished:completed`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { pythonFlwr, repoRoot } from "../interop/python.js";
import { userConfigToProto } from "../packages/flwr-core/src/index.js";
import { ControlDefinition } from "../packages/flwr-core/src/proto/index.js";
import { generateAuthKeys, generateCertificates } from "../packages/flwr-crypto/src/index.js";
import { createHttpClient } from "../packages/flwr-transport/src/wire/http/http-client.js";
import { waitForPort } from "./fixtures/deployment.js";
import { fabOfDir } from "./fixtures/fab-of-dir.js";
import { superlink142Args, supernode142Args } from "./fixtures/python-1.42-deployment.js";
import { launchedPids, reap } from "./fixtures/python-deployment.js";
import { freePort } from "./support/ports.js";
import { cliPath, type RunningProcess, run, start, stopAll } from "./support/processes.js";

const reference = pythonFlwr("1.42");
const appDir = join(repoRoot, "e2e/fixtures/mixed-runtime-app");

describe.skipIf(!reference.available)(
  `flwr-ts SuperNode served by a Python ${reference.version} SuperExec and a Python SuperNode served by flwr-ts's, in one run${reference.problem ? ` (skipped: ${reference.problem})` : ""}`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), "flwr-snrt142-"));
    const procs: Record<string, RunningProcess> = {};
    const addresses: string[] = [];
    const dump = () =>
      Object.entries(procs)
        .map(([name, p]) => `----- ${name} -----\n${p.output().slice(-8000)}`)
        .join("\n");

    afterAll(async () => {
      if (process.env["FLWR_TS_E2E_DUMP"]) console.log(dump());
      await Promise.all(
        Object.entries(procs)
          .filter(([name]) => name.includes("superexec"))
          .map(([, p]) => p.stop("SIGTERM", 10_000)),
      );
      await Promise.all(
        Object.entries(procs)
          .filter(([name]) => name.includes("supernode"))
          .map(([, p]) => p.stop("SIGTERM", 10_000)),
      );
      await procs["superlink"]?.stop("SIGTERM", 10_000);
      await stopAll();
      await reap(launchedPids(addresses), 5_000);
      rmSync(dir, { recursive: true, force: true });
    });

    test("both ClientApps' replies are aggregated and the run completes", async () => {
      const py = (bin: string) => join(reference.binDir, bin);
      const certs = (await generateCertificates({ outDir: join(dir, "certificates") })).paths;
      const keys = generateAuthKeys({ outDir: join(dir, "keys"), count: 2, curve: "P-384" });
      // One secret per SuperNode/SuperExec pair: each SuperExec can serve only its own node.
      const pySecret = join(dir, "python-supernode-secret");
      const tsSecret = join(dir, "flwr-ts-supernode-secret");
      writeFileSync(pySecret, "the Python SuperNode's SuperExec secret\n");
      writeFileSync(tsSecret, "the flwr-ts SuperNode's SuperExec secret\n");
      const flwrHome = join(dir, "flwr-home");
      mkdirSync(flwrHome);
      const port = await freePort();
      const pyRuntimePort = await freePort();
      const tsRuntimePort = await freePort();
      const tsAppIoPort = await freePort();
      addresses.push(
        ...[port, pyRuntimePort, tsRuntimePort, tsAppIoPort].map((p) => `127.0.0.1:${p}`),
      );
      writeFileSync(
        join(flwrHome, "config.toml"),
        `[superlink]\ndefault = "e2e"\n\n[superlink.e2e]\naddress = "127.0.0.1:${port}"\nroot-certificates = "${certs.caCert}"\n`,
      );
      const env = {
        FLWR_HOME: flwrHome,
        NO_COLOR: "1",
        FLWR_TELEMETRY_ENABLED: "0",
        FLWR_DISABLE_UPDATE_CHECK: "1",
        PYTHONUNBUFFERED: "1",
        PATH: `${reference.binDir}:${process.env["PATH"] ?? ""}`,
      };
      const runtimeTls = [
        "--ssl-certfile",
        certs.serverCert,
        "--ssl-keyfile",
        certs.serverKey,
        "--ssl-ca-certfile",
        certs.caCert,
      ];

      procs["superlink"] = start(
        py("flower-superlink"),
        [...superlink142Args(certs, port), "--disable-runtime-dependency-installation"],
        { env, cwd: dir },
      );
      await procs["superlink"].waitFor(`Uvicorn running on https://127.0.0.1:${port}`, 60_000);
      await waitForPort(port, 60_000);
      for (const key of keys) {
        const r = await run(py("flwr"), ["supernode", "register", key.publicKeyPath, "e2e"], {
          env,
          cwd: dir,
          timeoutMs: 120_000,
        });
        expect(r.output, r.output).toMatch(/registered successfully/);
      }

      // Python SuperNode (node 0), served by flwr-ts's SuperExec.
      procs["python supernode"] = start(
        py("flower-supernode"),
        [
          ...supernode142Args(certs.caCert, keys[0]!.privateKeyPath, port, pyRuntimePort, 0),
          "--isolation",
          "process",
          ...runtimeTls,
          "--superexec-auth-secret-file",
          pySecret,
        ],
        { env: { ...env, FLWR_HOME: join(dir, "py-node-home") }, cwd: dir },
      );
      // flwr-ts SuperNode (node 1), serving the Runtime API to a Python SuperExec.
      procs["flwr-ts supernode"] = start(
        cliPath("flower-supernode"),
        [
          "--root-certificates",
          certs.caCert,
          "--auth-supernode-private-key",
          keys[1]!.privateKeyPath,
          "--superlink",
          `127.0.0.1:${port}`,
          "--fleet-api-type",
          "http",
          "--clientappio-api-address",
          `127.0.0.1:${tsAppIoPort}`,
          "--isolation",
          "process",
          "--host",
          "127.0.0.1",
          "--port",
          String(tsRuntimePort),
          ...runtimeTls,
          "--superexec-auth-secret-file",
          tsSecret,
          "--node-config",
          "partition-id=1",
        ],
        { env: { ...env, FLWR_HOME: join(dir, "ts-node-home") }, cwd: dir },
      );
      await Promise.all([
        procs["python supernode"].waitFor("SuperNode ID", 60_000),
        procs["flwr-ts supernode"].waitFor("SuperNode ID", 60_000),
      ]);
      expect(procs["flwr-ts supernode"].output()).toContain(
        `Starting Flower Runtime HTTP API (Flower 1.42) on 127.0.0.1:${tsRuntimePort} (TLS, SuperExec auth on)`,
      );
      expect(procs["flwr-ts supernode"].output()).not.toMatch(/not served/);

      procs["flwr-ts superexec"] = start(
        cliPath("flower-superexec"),
        [
          "--runtime-api-address",
          `127.0.0.1:${pyRuntimePort}`,
          "--root-certificates",
          certs.caCert,
          "--superexec-auth-secret-file",
          pySecret,
          "--plugin-type",
          "clientapp",
        ],
        {
          env: { FLWR_HOME: join(dir, "ts-exec-home"), FLWR_SUPEREXEC_TASK_POLL_INTERVAL: "0.2" },
          cwd: dir,
        },
      );
      procs["python superexec"] = start(
        py("flower-superexec"),
        [
          "--runtime-api-address",
          `127.0.0.1:${tsRuntimePort}`,
          "--root-certificates",
          certs.caCert,
          "--superexec-auth-secret-file",
          tsSecret,
        ],
        { env: { ...env, FLWR_HOME: join(dir, "py-exec-home") }, cwd: dir },
      );

      const fab = fabOfDir(appDir);
      const control = createHttpClient(ControlDefinition, `https://127.0.0.1:${port}`, {
        rootCertificates: certs.caCert,
      });
      try {
        const t0 = Date.now();
        const started = await control.startRun({
          fab: { hashStr: fab.hash, content: Buffer.from(fab.bytes), verifications: new Map() },
          overrideConfig: userConfigToProto({ "expected-ts-marker": 5.0 }),
          overrideFederationConfig: undefined,
          appSpec: "",
          federation: "",
          connectorRefs: [],
          userPrompt: "",
          connectorIds: [],
        });
        const runId = started.runId;
        expect(runId, dump()).toBeDefined();
        const deadline = Date.now() + 300_000;
        let status: { status: string; subStatus: string; details: string } | undefined;
        while (Date.now() < deadline) {
          const runs = await control.listRuns({ runId: runId! });
          status = runs.runDict.get(runId!)?.status;
          if (status?.status === "finished") break;
          await new Promise((r) => setTimeout(r, 500));
        }
        const seconds = (Date.now() - t0) / 1000;
        let logs = "";
        for await (const r of control.streamLogs({ runId: runId!, afterTimestamp: 0 }))
          logs += r.logOutput;
        console.log(
          `supernode-runtime-python-1.42: run ${runId} ${JSON.stringify(status)} in ${seconds.toFixed(1)} s`,
        );
        if (process.env["FLWR_TS_E2E_DUMP"]) console.log(`----- run logs -----\n${logs}`);
        const context = `status ${JSON.stringify(status)}\n----- run logs -----\n${logs}\n${dump()}`;
        expect(status?.status, context).toBe("finished");
        expect(status?.subStatus, context).toBe("completed");
        expect(logs, context).toContain("mixedapp final: [2.0, 2.0, 2.0]");
        // 5 = (7 · 10 + 3 · 10) / 20: the TS and the Python ClientApp replied in every round.
        expect(logs, context).toMatch(/round 1: train \{.*'ts-marker': 5\.0/);
        expect(logs, context).toMatch(/round 2: train \{.*'ts-marker': 5\.0/);
        // Our SuperNode handed its ClientApp tasks to the Python SuperExec over the Runtime API
        // (4 messages: train and evaluate in 2 rounds).
        const tsNode = procs["flwr-ts supernode"].output();
        const acquired = tsNode.match(/Task \d+ \(flwr-clientapp\) of run \d+ acquired/g) ?? [];
        const finished = tsNode.match(/Finished task \d+ of run \d+ \(completed\)/g) ?? [];
        expect(acquired.length, context).toBe(4);
        expect(finished.length, context).toBe(4);
      } finally {
        control.close();
      }
    }, 420_000);
  },
);
