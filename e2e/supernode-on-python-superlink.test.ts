/**
 * A flwr-ts `flower-supernode` on a Python Flower SuperLink, TLS and `--enable-supernode-auth`,
 * its key registered with that Python release's own CLI, on both wires the SuperLink can speak:
 *
 * - **1.39 over gRPC** (the 1.30–1.39 check): the last release whose SuperLink serves gRPC Fleet.
 *   1.39's `flower-superlink` takes `--fleet-api-address` (gRPC-rere Fleet) beside `--host/--port`
 *   (one HTTP port for Control and Runtime); its Fleet node auth is 1.29's gRPC interceptor
 *   (`node_auth_server_interceptor.py`: `-bin` public key and signature metadata).
 * - **1.42 over HTTP**: Fleet, Control and Runtime on one HTTP port (`flwr/superlink/routers/`);
 *   node auth is `routers/fleet/node_auth.py` (base64 `flwr-public-key`, `flwr-timestamp`,
 *   `flwr-signature` headers). The SuperNode is told `--fleet-api-type http` (the port is not
 *   8000). A SuperNode told `grpc-rere` against that port must stop with a message naming
 *   `--fleet-api-type http`, not retry.
 *
 * Both SuperLinks run `--isolation process` (no SuperExec: no app runs here) and are ready when
 * uvicorn logs `Uvicorn running on https://HOST:PORT`. Both CLIs speak HTTP Control and read
 * connections from `$FLWR_HOME/config.toml` `[superlink.<name>]`, used as
 * `flwr supernode register <pub> <connection>` (`flwr/cli/supernode/register.py`).
 *
 * Checked on each: the SuperNode comes online with the registered node id (Python's
 * `flwr supernode list` and our `flwr` over Python's HTTP Control agree), a SIGTERM makes it
 * offline, a SuperNode with an unregistered key is refused and exits, and one whose key is
 * unregistered while it runs stops. Run `pnpm build` first.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type PythonFlwr, pythonFlwr } from "../interop/python.js";
import { generateAuthKeys, generateCertificates } from "../packages/flwr-crypto/src/index.js";
import { waitForPort } from "./fixtures/deployment.js";
import { superlink142Args } from "./fixtures/python-1.42-deployment.js";
import { freePort } from "./support/ports.js";
import { cliPath, type RunningProcess, run, start, stopAll } from "./support/processes.js";

interface ListedNode {
  "node-id": string | number;
  status: string;
}

type Certs = { caCert: string; serverCert: string; serverKey: string };

/** One Python SuperLink to test on: how to start it and which Fleet wire it speaks. */
interface Scene {
  readonly py: PythonFlwr;
  readonly wire: "gRPC" | "HTTP";
  /** `flower-superlink` flags, given the TLS files and two free ports. */
  superlinkArgs(certs: Certs, httpPort: number, fleetPort: number): string[];
  /** After "Uvicorn running": waits until the Fleet API accepts connections. */
  fleetReady(superlink: RunningProcess, httpPort: number, fleetPort: number): Promise<void>;
  /** flwr-ts `flower-supernode` flags reaching the Fleet API. */
  fleetFlags(httpPort: number, fleetPort: number): string[];
}

const scenes: Scene[] = [
  {
    py: pythonFlwr("1.39"),
    wire: "gRPC",
    superlinkArgs: (certs, httpPort, fleetPort) => [
      "--ssl-ca-certfile",
      certs.caCert,
      "--ssl-certfile",
      certs.serverCert,
      "--ssl-keyfile",
      certs.serverKey,
      "--enable-supernode-auth",
      "--host",
      "127.0.0.1",
      "--port",
      String(httpPort),
      "--fleet-api-address",
      `127.0.0.1:${fleetPort}`,
    ],
    fleetReady: async (superlink, _http, fleetPort) => {
      await superlink.waitFor("Starting Fleet API (gRPC-rere)", 10_000);
      await waitForPort(fleetPort);
    },
    fleetFlags: (_http, fleetPort) => ["--superlink", `127.0.0.1:${fleetPort}`],
  },
  {
    py: pythonFlwr("1.42"),
    wire: "HTTP",
    superlinkArgs: (certs, httpPort) => superlink142Args(certs, httpPort),
    fleetReady: async () => {},
    fleetFlags: (httpPort) => ["--superlink", `127.0.0.1:${httpPort}`, "--fleet-api-type", "http"],
  },
];

for (const scene of scenes) {
  const { py } = scene;
  describe.skipIf(!py.available)(
    `a flwr-ts SuperNode (${scene.wire} Fleet) on Python flwr ${py.version} ${py.problem ?? ""}`,
    () => {
      let dir: string;
      let certs: Certs;
      let keys: ReturnType<typeof generateAuthKeys>;
      let env: Record<string, string>;
      let superlink: RunningProcess;
      let httpPort: number;
      let fleetPort: number;
      const connection = "py";

      const pyFlwr = (args: string[]) =>
        run(join(py.binDir, "flwr"), args, { env, cwd: dir, timeoutMs: 60_000 });
      const listNodes = async (): Promise<ListedNode[]> => {
        const r = await pyFlwr(["supernode", "list", connection, "--format", "json"]);
        expect(r.code, r.output).toBe(0);
        const doc = JSON.parse(r.output.slice(r.output.indexOf("{"))) as {
          success: boolean;
          nodes: ListedNode[];
        };
        expect(doc.success, r.output).toBe(true);
        return doc.nodes;
      };
      const statusOf = async (id: string) =>
        (await listNodes()).find((n) => String(n["node-id"]) === id)?.status ?? "";
      const waitStatus = async (id: string, want: string, timeoutMs = 30_000) => {
        const deadline = Date.now() + timeoutMs;
        let seen = "";
        while (Date.now() < deadline) {
          seen = await statusOf(id);
          if (seen === want) return seen;
          await new Promise((r) => setTimeout(r, 500));
        }
        return seen;
      };
      const register = async (pub: string): Promise<string> => {
        const r = await pyFlwr(["supernode", "register", pub, connection]);
        expect(r.code, r.output).toBe(0);
        const id = /SuperNode (\d+) registered successfully/.exec(r.output)?.[1];
        expect(id, r.output).toBeDefined();
        return id!;
      };
      const supernode = async (privateKey: string) =>
        start(
          cliPath("flower-supernode"),
          [
            "--root-certificates",
            certs.caCert,
            "--auth-supernode-private-key",
            privateKey,
            ...scene.fleetFlags(httpPort, fleetPort),
            "--clientappio-api-address",
            `127.0.0.1:${await freePort()}`,
            "--isolation",
            "process",
            "--max-retries",
            "0",
          ],
          { env, cwd: dir },
        );

      beforeAll(async () => {
        dir = mkdtempSync(join(tmpdir(), "flwr-e2e-pysl-"));
        certs = (await generateCertificates({ outDir: join(dir, "certificates") })).paths;
        keys = generateAuthKeys({ outDir: join(dir, "keys"), count: 3 });
        httpPort = await freePort();
        fleetPort = await freePort();
        const home = join(dir, "flwr-home");
        mkdirSync(home);
        writeFileSync(
          join(home, "config.toml"),
          `[superlink]\ndefault = "${connection}"\n\n[superlink.${connection}]\naddress = "127.0.0.1:${httpPort}"\nroot-certificates = "${certs.caCert}"\n`,
        );
        env = { FLWR_HOME: home, NO_COLOR: "1", FLWR_TELEMETRY_ENABLED: "0" };
        superlink = start(
          join(py.binDir, "flower-superlink"),
          [...scene.superlinkArgs(certs, httpPort, fleetPort), "--isolation", "process"],
          { env, cwd: dir },
        );
        await superlink.waitFor(`Uvicorn running on https://127.0.0.1:${httpPort}`, 60_000);
        await scene.fleetReady(superlink, httpPort, fleetPort);
      }, 90_000);

      afterAll(async () => {
        await superlink?.stop("SIGTERM", 10_000);
        await stopAll();
        if (dir) rmSync(dir, { recursive: true, force: true });
      });

      test("registered with Python's CLI, it comes online; SIGTERM makes it offline", async () => {
        const id = await register(keys[0]!.publicKeyPath);
        expect(await statusOf(id)).toBe("registered");
        const t0 = performance.now();
        const node = await supernode(keys[0]!.privateKeyPath);
        await node.waitFor(`SuperNode ID: ${id}`, 30_000);
        expect(await waitStatus(id, "online"), node.output()).toBe("online");
        process.stdout.write(
          `flwr-ts SuperNode online on Python ${py.version} (${scene.wire}): ${(performance.now() - t0).toFixed(0)} ms\n`,
        );
        // Our CLI over Python's HTTP Control sees the same.
        const ours = await run(
          cliPath("flwr"),
          ["supernode", "list", connection, "--format", "json"],
          { env, cwd: dir },
        );
        expect(ours.code, ours.output).toBe(0);
        const doc = JSON.parse(ours.output) as { nodes: ListedNode[] };
        expect(doc.nodes.find((n) => n["node-id"] === id)?.status).toBe("online");

        expect(await node.stop("SIGTERM", 10_000)).toBe(0);
        expect(node.output()).toMatch(new RegExp(`SuperNode ${id} deactivated`));
        expect(await statusOf(id)).toBe("offline");
        expect(superlink.output()).not.toMatch(/Traceback|Invalid signature|Invalid node ID/);
      }, 120_000);

      test("an unregistered key is refused and the SuperNode exits", async () => {
        const node = await supernode(keys[2]!.privateKeyPath);
        const code = await Promise.race([
          node.exited(),
          new Promise<string>((r) => setTimeout(() => r("still running"), 30_000)),
        ]);
        expect(code, node.output()).not.toBe("still running");
        expect(code, node.output()).not.toBe(0);
        expect(node.output()).not.toMatch(/SuperNode ID/);
        // Both answer activation of an unknown key with Flower's code 2004 (1.39 as gRPC
        // FAILED_PRECONDITION with a JSON FlowerError, 1.42 as HTTP 412, `supercore/error/catalog.py`): one plain line, no JSON.
        expect(node.output()).toMatch(/SuperNode stopped: [^{\n]*Failed to activate SuperNode/);
        expect(node.output()).not.toMatch(/\n\s+at /);
      }, 60_000);

      test.runIf(scene.wire === "HTTP")(
        "told gRPC against the HTTP port, it stops at once naming --fleet-api-type http",
        async () => {
          const node = start(
            cliPath("flower-supernode"),
            [
              "--root-certificates",
              certs.caCert,
              "--auth-supernode-private-key",
              keys[2]!.privateKeyPath,
              "--superlink",
              `127.0.0.1:${httpPort}`,
              "--fleet-api-type",
              "grpc-rere",
              "--clientappio-api-address",
              `127.0.0.1:${await freePort()}`,
            ],
            { env, cwd: dir },
          );
          const code = await Promise.race([
            node.exited(),
            new Promise<string>((r) => setTimeout(() => r("still running"), 30_000)),
          ]);
          expect(code, node.output()).not.toBe("still running");
          expect(code, node.output()).not.toBe(0);
          expect(node.output()).toMatch(/--fleet-api-type http/);
          expect(node.output()).not.toMatch(/\n\s+at /);
        },
        60_000,
      );

      test("unregistered by Python's CLI while online, the SuperNode stops", async () => {
        const id = await register(keys[1]!.publicKeyPath);
        const node = await supernode(keys[1]!.privateKeyPath);
        await node.waitFor(`SuperNode ID: ${id}`, 30_000);
        expect(await waitStatus(id, "online"), node.output()).toBe("online");
        const un = await pyFlwr(["supernode", "unregister", id, connection]);
        expect(un.code, un.output).toBe(0);
        const code = await Promise.race([
          node.exited(),
          new Promise<string>((r) => setTimeout(() => r("still running"), 45_000)),
        ]);
        expect(code, node.output()).not.toBe("still running");
        // The next call is refused (Invalid node ID); re-activation fails with {2004}.
        expect(node.output()).toMatch(/no longer recognizes SuperNode/);
        expect(await statusOf(id)).toBe("unregistered");
      }, 120_000);
    },
  );
}
