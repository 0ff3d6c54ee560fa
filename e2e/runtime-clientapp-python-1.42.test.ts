/**
 * A Python flwr 1.42 SuperNode in `--isolation process` served by OUR `flower-superexec`: the
 * SuperNode's ClientApp tasks run as TypeScript ClientApps in our `flwr-clientapp`, over 1.42's
 * Runtime API (protobuf over HTTP, `app-runtime/runtime-api/`). Real processes on 127.0.0.1,
 * free ports:
 *
 * - a Python 1.42 `flower-superlink` (TLS, `--enable-supernode-auth`, Fleet/Control/Runtime over
 *   HTTP on one port, 1.42's default subprocess isolation: it runs the Python ServerApp itself
 *   with its own Python `flower-superexec`; runtime dependency installation off);
 * - both SuperNode keys registered with Python 1.42's `flwr supernode register`;
 * - two Python 1.42 `flower-supernode --isolation process`, each with its Runtime API on a free
 *   `--port` over TLS (`--ssl-certfile/--ssl-keyfile/--ssl-ca-certfile`) and SuperExec
 *   authentication (`--superexec-auth-secret-file`);
 * - per SuperNode, our `flower-superexec --runtime-api-address … --root-certificates …
 *   --superexec-auth-secret-file …` (HMAC-signed AcquireTask), launching our `flwr-clientapp`;
 *   the second one is given 1.42's deprecated `--appio-api-address` instead and must find out
 *   by itself that the address is a Runtime API (HTTP/1.1 over TLS), not 1.29's gRPC ClientAppIo.
 *
 * The app (`fixtures/mixed-runtime-app`) is one FAB with a Python ServerApp (named in its
 * `pyproject.toml`, what the Python SuperLink loads) and a TypeScript ClientApp (named in its
 * `package.json`, what flwr-ts loads). Python's `flwr build` only packs `*.py`/`*.toml`/`*.json`/…
 * (never `*.ts`: `flwr/common/constant.py:71-80`, not overridable), so the test zips the fixture
 * in Flower's FAB format itself and submits it with Control `StartRun` over 1.42's HTTP API (what
 * `flwr run` sends). The ServerApp raises unless every round's aggregate is what the TS
 * ClientApps compute (each adds `step` to every value and reports `ts-marker` = 7, a metric no
 * Python code produces); the run must end `finished:completed` and its logs carry the result.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { pythonFlwr, repoRoot } from "../interop/python.js";
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
  `Python ${reference.version} SuperNode (--isolation process) served by flwr-ts's SuperExec over the Runtime API${reference.problem ? ` (skipped: ${reference.problem})` : ""}`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), "flwr-rt142-"));
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
          .filter(([name]) => name.startsWith("supernode"))
          .map(([, p]) => p.stop("SIGTERM", 10_000)),
      );
      await procs["superlink"]?.stop("SIGTERM", 10_000);
      await stopAll();
      await reap(launchedPids(addresses), 5_000);
      rmSync(dir, { recursive: true, force: true });
    });

    test("a run with a TypeScript ClientApp finishes completed with its replies aggregated", async () => {
      const py = (bin: string) => join(reference.binDir, bin);
      const certs = (await generateCertificates({ outDir: join(dir, "certificates") })).paths;
      const keys = generateAuthKeys({ outDir: join(dir, "keys"), count: 2, curve: "P-384" });
      const secret = join(dir, "superexec-secret");
      writeFileSync(secret, "a shared SuperExec secret\n");
      const flwrHome = join(dir, "flwr-home");
      mkdirSync(flwrHome);
      const port = await freePort();
      const runtimePorts = [await freePort(), await freePort()];
      addresses.push(...[port, ...runtimePorts].map((p) => `127.0.0.1:${p}`));
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

      keys.forEach((key, i) => {
        procs[`supernode ${i}`] = start(
          py("flower-supernode"),
          [
            ...supernode142Args(certs.caCert, key.privateKeyPath, port, runtimePorts[i]!, i),
            "--isolation",
            "process",
            "--ssl-certfile",
            certs.serverCert,
            "--ssl-keyfile",
            certs.serverKey,
            "--ssl-ca-certfile",
            certs.caCert,
            "--superexec-auth-secret-file",
            secret,
          ],
          { env, cwd: dir },
        );
      });
      await Promise.all(
        keys.map((_, i) => procs[`supernode ${i}`]!.waitFor("SuperNode ID", 60_000)),
      );
      runtimePorts.forEach((rt, i) => {
        procs[`flwr-ts superexec ${i}`] = start(
          cliPath("flower-superexec"),
          [
            // SuperExec 0 names the Runtime API; SuperExec 1 gives 1.42's deprecated
            // --appio-api-address, which flwr-ts probes (HTTP/1.1 → Runtime API, HTTP/2 → 1.29 AppIo).
            i === 0 ? "--runtime-api-address" : "--appio-api-address",
            `127.0.0.1:${rt}`,
            "--root-certificates",
            certs.caCert,
            "--superexec-auth-secret-file",
            secret,
            "--plugin-type",
            "clientapp",
          ],
          {
            env: { FLWR_HOME: join(dir, `ts-home-${i}`), FLWR_SUPEREXEC_TASK_POLL_INTERVAL: "0.2" },
            cwd: dir,
          },
        );
      });

      const fab = fabOfDir(appDir);
      const control = createHttpClient(ControlDefinition, `https://127.0.0.1:${port}`, {
        rootCertificates: certs.caCert,
      });
      try {
        const started = await control.startRun({
          fab: { hashStr: fab.hash, content: Buffer.from(fab.bytes), verifications: new Map() },
          overrideConfig: new Map(),
          overrideFederationConfig: undefined,
          appSpec: "",
          federation: "",
          connectorRefs: [],
          userPrompt: "",
          connectorIds: [],
        });
        const runId = started.runId;
        expect(runId, dump()).toBeDefined();
        const deadline = Date.now() + 240_000;
        let status: { status: string; subStatus: string; details: string } | undefined;
        while (Date.now() < deadline) {
          const runs = await control.listRuns({ runId: runId! });
          status = runs.runDict.get(runId!)?.status;
          if (status?.status === "finished") break;
          await new Promise((r) => setTimeout(r, 500));
        }
        let logs = "";
        for await (const r of control.streamLogs({ runId: runId!, afterTimestamp: 0 }))
          logs += r.logOutput;
        if (process.env["FLWR_TS_E2E_DUMP"]) console.log(`----- run logs -----\n${logs}`);
        const context = `status ${JSON.stringify(status)}\n----- run logs -----\n${logs}\n${dump()}`;
        expect(status?.status, context).toBe("finished");
        expect(status?.subStatus, context).toBe("completed");
        expect(logs, context).toContain("mixedapp final: [2.0, 2.0, 2.0] (TS replies aggregated)");
        expect(logs, context).toMatch(/round 2: train \{.*'ts-marker': 7\.0/);
      } finally {
        control.close();
      }
    }, 400_000);
  },
);
