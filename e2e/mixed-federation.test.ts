/**
 * One federation of three Flower generations on OUR `flower-superlink` (TLS,
 * `--enable-supernode-auth`, subprocess isolation: it runs the TypeScript ServerApp with our
 * SuperExec), real processes on 127.0.0.1, free ports:
 *
 * - a **flwr-ts** `flower-supernode` over HTTP Fleet (`--superlink https://…`), its key
 *   registered with our `flwr` over gRPC Control;
 * - a **Python 1.29** `flower-supernode --isolation process` over gRPC Fleet, its key registered
 *   with Python 1.29's `flwr` over gRPC Control; its ClientApps run in our `flwr-clientapp`,
 *   launched by our `flower-superexec --appio-api-address` (1.29's ClientAppIo);
 * - a **Python 1.42** `flower-supernode --isolation process` over HTTP Fleet, its key registered
 *   with Python 1.42's `flwr` over HTTP Control; its ClientApps run in our `flwr-clientapp`,
 *   launched by our `flower-superexec --runtime-api-address` (1.42's Runtime API over TLS, with
 *   SuperExec HMAC authentication).
 *
 * All three are online together in every CLI's `flwr supernode list` (ours, 1.29's, 1.42's); then
 * our `flwr run --stream` of the TypeScript linear-regression app (`fixtures/linear-app`) must
 * show, in every round, three train and three evaluate replies and no failure, learn the model,
 * and end `finished:completed`. `FLWR_TS_E2E_DUMP=1` prints every process's output. Run
 * `pnpm build` first. Skipped when either Python reference is missing outside CI.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { afterAll, describe, expect, test } from "vitest";
import { pythonFlwr } from "../interop/python.js";
import { generateAuthKeys, generateCertificates } from "../packages/flwr-crypto/src/index.js";
import { superlinkArgs, supernodeArgs, waitForPort } from "./fixtures/deployment.js";
import { supernode142Args } from "./fixtures/python-1.42-deployment.js";
import { launchedPids, reap } from "./fixtures/python-deployment.js";
import { freePort } from "./support/ports.js";
import { cliPath, type RunningProcess, run, start, stopAll } from "./support/processes.js";

const py129 = pythonFlwr("1.29");
const py142 = pythonFlwr("1.42");
const ROUNDS = 2;

interface ListedNode {
  "node-id": number | string;
  status: string;
}

describe.skipIf(!py129.available || !py142.available)(
  `a flwr-ts SuperLink with flwr-ts, Python ${py129.version} and Python ${py142.version} SuperNodes in one run${py129.problem ?? ""}${py142.problem ?? ""}`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), "flwr-mixed-"));
    const procs: Record<string, RunningProcess> = {};
    const addresses: string[] = [];
    const dump = () =>
      Object.entries(procs)
        .map(([name, p]) => `----- ${name} -----\n${p.output().slice(-6000)}`)
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

    test("all three SuperNodes reply in every round of a completed run", async () => {
      const certs = (await generateCertificates({ outDir: join(dir, "certificates") })).paths;
      const [tsKey, key129, key142] = generateAuthKeys({
        outDir: join(dir, "keys"),
        count: 3,
        curve: "P-384",
      });
      const secret = join(dir, "superexec-secret");
      writeFileSync(secret, "the 1.42 SuperNode's SuperExec secret\n");
      const ports = {
        fleet: await freePort(),
        control: await freePort(),
        serverappio: await freePort(),
        clientappio: [await freePort(), await freePort()],
        runtime: await freePort(),
      };
      addresses.push(`127.0.0.1:${ports.runtime}`, `127.0.0.1:${ports.clientappio[1]}`);

      // Our SuperLink: 1.29's gRPC APIs on their ports, 1.42's HTTP API on a free --port.
      const home = join(dir, "ts-home");
      mkdirSync(home);
      const tsEnv = { FLWR_HOME: home, NO_COLOR: "1" };
      const superlink = start(
        cliPath("flower-superlink"),
        [...superlinkArgs(certs, ports), "--port", "0"],
        { env: tsEnv, cwd: dir },
      );
      procs["superlink"] = superlink;
      const httpLine = /Starting HTTP API \(Fleet, Control\) on [^\s:]+:(\d+)/;
      await superlink.waitFor(httpLine, 30_000);
      const httpPort = Number(httpLine.exec(superlink.output())?.[1]);
      await Promise.all(
        [ports.fleet, ports.control, ports.serverappio, httpPort].map((p) => waitForPort(p)),
      );

      // Each CLI's connection to our SuperLink: the TS app's federation (gRPC Control), 1.29's
      // config.toml (gRPC Control), 1.42's config.toml (HTTP Control).
      const app = join(dir, "app");
      cpSync(join(import.meta.dirname, "fixtures/linear-app"), app, { recursive: true });
      const pkg = JSON.parse(readFileSync(join(app, "package.json"), "utf8"));
      pkg.flwr.federations = {
        default: "my-federation",
        "my-federation": {
          address: `127.0.0.1:${ports.control}`,
          "root-certificates": certs.caCert,
        },
      };
      writeFileSync(join(app, "package.json"), JSON.stringify(pkg, null, 2));
      const pyEnv = (ref: "1.29" | "1.42", controlPort: number) => {
        const flwrHome = join(dir, `home-${ref}`);
        mkdirSync(flwrHome);
        writeFileSync(
          join(flwrHome, "config.toml"),
          `[superlink]\ndefault = "e2e"\n\n[superlink.e2e]\naddress = "127.0.0.1:${controlPort}"\nroot-certificates = "${certs.caCert}"\n`,
        );
        return {
          FLWR_HOME: flwrHome,
          NO_COLOR: "1",
          FLWR_TELEMETRY_ENABLED: "0",
          FLWR_DISABLE_UPDATE_CHECK: "1",
          PYTHONUNBUFFERED: "1",
        };
      };
      const env129 = pyEnv("1.29", ports.control);
      const env142 = pyEnv("1.42", httpPort);
      const tsFlwr = (args: string[]) =>
        run(cliPath("flwr"), args, { env: tsEnv, cwd: dir, timeoutMs: 180_000 });
      const pyFlwr = async (ref: "1.29" | "1.42", args: string[]) => {
        const py = ref === "1.29" ? py129 : py142;
        const r = await run(join(py.binDir, "flwr"), args, {
          env: ref === "1.29" ? env129 : env142,
          cwd: dir,
          timeoutMs: 60_000,
        });
        return { code: r.code, output: stripVTControlCharacters(r.output) };
      };

      const idOf = (output: string) => /SuperNode (\d+) registered successfully/.exec(output)?.[1];
      const regTs = await tsFlwr(["supernode", "register", tsKey!.publicKeyPath, app]);
      const reg129 = await pyFlwr("1.29", ["supernode", "register", key129!.publicKeyPath, "e2e"]);
      const reg142 = await pyFlwr("1.42", ["supernode", "register", key142!.publicKeyPath, "e2e"]);
      const ids = [regTs, reg129, reg142].map((r) => {
        expect(r.code, r.output).toBe(0);
        const id = idOf(r.output);
        expect(id, r.output).toBeDefined();
        return id!;
      });

      // flwr-ts SuperNode over HTTP Fleet (chosen by the https:// scheme), its own SuperExec.
      const tsArgs = supernodeArgs(
        certs.caCert,
        tsKey!.privateKeyPath,
        0,
        ports.clientappio[0]!,
        0,
      );
      tsArgs[tsArgs.indexOf("--superlink") + 1] = `https://127.0.0.1:${httpPort}`;
      procs["supernode flwr-ts"] = start(cliPath("flower-supernode"), tsArgs, {
        env: tsEnv,
        cwd: dir,
      });
      // Python 1.29 SuperNode over gRPC Fleet, its ClientApps in our SuperExec (ClientAppIo).
      procs["supernode 1.29"] = start(
        join(py129.binDir, "flower-supernode"),
        [
          ...supernodeArgs(
            certs.caCert,
            key129!.privateKeyPath,
            ports.fleet,
            ports.clientappio[1]!,
            1,
          ),
          "--isolation",
          "process",
        ],
        { env: env129, cwd: dir },
      );
      // Python 1.42 SuperNode over HTTP Fleet, its ClientApps in our SuperExec (Runtime API).
      procs["supernode 1.42"] = start(
        join(py142.binDir, "flower-supernode"),
        [
          ...supernode142Args(certs.caCert, key142!.privateKeyPath, httpPort, ports.runtime, 2),
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
        { env: env142, cwd: dir },
      );
      await Promise.all(
        ["flwr-ts", "1.29", "1.42"].map((n, i) =>
          procs[`supernode ${n}`]!.waitFor(`SuperNode ID: ${ids[i]}`, 60_000),
        ),
      );
      procs["superexec 1.29 (flwr-ts)"] = start(
        cliPath("flower-superexec"),
        [
          "--plugin-type",
          "clientapp",
          "--appio-api-address",
          `127.0.0.1:${ports.clientappio[1]}`,
          "--insecure",
        ],
        { env: { FLWR_HOME: join(dir, "superexec-129-home") }, cwd: dir },
      );
      procs["superexec 1.42 (flwr-ts)"] = start(
        cliPath("flower-superexec"),
        [
          "--plugin-type",
          "clientapp",
          "--runtime-api-address",
          `127.0.0.1:${ports.runtime}`,
          "--root-certificates",
          certs.caCert,
          "--superexec-auth-secret-file",
          secret,
        ],
        {
          env: {
            FLWR_HOME: join(dir, "superexec-142-home"),
            FLWR_SUPEREXEC_TASK_POLL_INTERVAL: "0.2",
          },
          cwd: dir,
        },
      );

      // Online together, as every CLI lists them.
      const statuses = async (): Promise<Record<string, string>[]> => {
        const lists = await Promise.all([
          tsFlwr(["supernode", "list", app, "--format", "json"]),
          pyFlwr("1.29", ["supernode", "list", "e2e", "--format", "json"]),
          pyFlwr("1.42", ["supernode", "list", "e2e", "--format", "json"]),
        ]);
        return lists.map((r) => {
          expect(r.code, r.output).toBe(0);
          const doc = JSON.parse(r.output.slice(r.output.indexOf("{"))) as { nodes: ListedNode[] };
          return Object.fromEntries(doc.nodes.map((n) => [String(n["node-id"]), n.status]));
        });
      };
      const allOnline = (byCli: Record<string, string>[]) =>
        byCli.every((s) => ids.every((id) => s[id] === "online"));
      let seen = await statuses();
      const deadline = Date.now() + 30_000;
      while (!allOnline(seen) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        seen = await statuses();
      }
      expect(seen, dump()).toEqual(
        [0, 1, 2].map(() => Object.fromEntries(ids.map((id) => [id, "online"]))),
      );

      const t0 = performance.now();
      const r = await tsFlwr([
        "run",
        app,
        "my-federation",
        "--stream",
        "--run-config",
        `num-server-rounds=${ROUNDS}`,
      ]);
      const ms = performance.now() - t0;
      const context = `${r.output}\n${dump()}`;
      expect(r.code, context).toBe(0);
      const count = (pattern: RegExp) => (r.output.match(pattern) ?? []).length;
      expect(count(/aggregate_train: Received 3 results and 0 failures/g), context).toBe(ROUNDS);
      expect(count(/aggregate_evaluate: Received 3 results and 0 failures/g), context).toBe(ROUNDS);
      expect(r.output, context).not.toMatch(/Received \d+ results and [1-9]\d* failures/);
      expect(r.output, context).toMatch(/final model: w=\[/);
      const runId = /run (\d+)/i.exec(r.output)?.[1];
      expect(runId, context).toBeDefined();
      const ls = await tsFlwr(["ls", app, "--run-id", runId!, "--format", "json"]);
      expect(ls.code, ls.output).toBe(0);
      const listed = (JSON.parse(ls.output) as { runs: { status: string }[] }).runs[0];
      expect(listed?.status, context).toBe("finished:completed");
      // Each SuperExec launched the TypeScript ClientApp for its Python SuperNode.
      for (const name of ["superexec 1.29 (flwr-ts)", "superexec 1.42 (flwr-ts)"])
        expect(procs[name]!.output(), context).not.toMatch(/\n\s+at |Error:/);
      process.stdout.write(
        `mixed federation (flwr-ts + Python ${py129.version} + Python ${py142.version}), ${ROUNDS} rounds: flwr run --stream ${ms.toFixed(0)} ms\n`,
      );
    }, 400_000);
  },
);
