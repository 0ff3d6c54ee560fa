/**
 * The 1.30–1.39 check: a flwr-ts `flower-supernode` over gRPC Fleet (its default path) on a
 * Python flwr 1.39 `flower-superlink` — the last release whose SuperLink serves gRPC Fleet — with
 * TLS and `--enable-supernode-auth`, its key registered with Python 1.39's own CLI.
 *
 * What 1.39 needs (read from its wheel, `.venv-1.39`, and `flower-superlink --help`):
 * - SuperLink: `--ssl-ca-certfile/--ssl-certfile/--ssl-keyfile`, `--enable-supernode-auth`,
 *   `--fleet-api-address` (gRPC-rere Fleet, default `0.0.0.0:9092`), `--host/--port` (one HTTP port
 *   for Control and Runtime; `--control-api-address` is deprecated), `--isolation process` (no
 *   SuperExec: nothing runs here). Ready when uvicorn logs `Uvicorn running on https://HOST:PORT`.
 * - CLI: 1.39's `flwr` speaks HTTP Control (`ControlHttpClient`, `flwr/cli/utils.py`) and reads
 *   connections from `$FLWR_HOME/config.toml` `[superlink.<name>]` (`address` = the HTTP port,
 *   absolute `root-certificates`), used as `flwr supernode register <pub> <connection>` — the form
 *   1.42 has too (`flwr/cli/supernode/register.py`).
 * - Fleet node auth is 1.29's gRPC interceptor (`node_auth_server_interceptor.py`): `-bin`
 *   public key and signature metadata, node id checked against the key.
 *
 * Checked: the SuperNode comes online with the registered node id (Python 1.39's
 * `flwr supernode list` and our `flwr` over 1.39's HTTP Control agree), a SIGTERM makes it
 * offline, a SuperNode with an unregistered key is refused and exits, and one whose key is
 * unregistered while it runs stops. Run `pnpm build` first.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { pythonFlwr } from "../interop/python.js";
import { generateAuthKeys, generateCertificates } from "../packages/flwr-crypto/src/index.js";
import { waitForPort } from "./fixtures/deployment.js";
import { freePort } from "./support/ports.js";
import { cliPath, type RunningProcess, run, start, stopAll } from "./support/processes.js";

const py139 = pythonFlwr("1.39");

interface ListedNode {
  "node-id": string | number;
  status: string;
}

describe.skipIf(!py139.available)(
  `a flwr-ts SuperNode (gRPC Fleet) on Python flwr ${py139.version} ${py139.problem ?? ""}`,
  () => {
    let dir: string;
    let certs: { caCert: string; serverCert: string; serverKey: string };
    let keys: ReturnType<typeof generateAuthKeys>;
    let env: Record<string, string>;
    let superlink: RunningProcess;
    let httpPort: number;
    let fleetPort: number;
    const connection = "py139";

    const pyFlwr = (args: string[]) =>
      run(join(py139.binDir, "flwr"), args, { env, cwd: dir, timeoutMs: 60_000 });
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
          "--superlink",
          `127.0.0.1:${fleetPort}`,
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
      dir = mkdtempSync(join(tmpdir(), "flwr-e2e-py139-"));
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
        join(py139.binDir, "flower-superlink"),
        [
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
          "--isolation",
          "process",
        ],
        { env, cwd: dir },
      );
      await superlink.waitFor(`Uvicorn running on https://127.0.0.1:${httpPort}`, 60_000);
      await superlink.waitFor("Starting Fleet API (gRPC-rere)", 10_000);
      await waitForPort(fleetPort);
    }, 90_000);

    afterAll(async () => {
      await superlink?.stop("SIGTERM", 10_000);
      await stopAll();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test("registered with 1.39's CLI, it comes online; SIGTERM makes it offline", async () => {
      const id = await register(keys[0]!.publicKeyPath);
      expect(await statusOf(id)).toBe("registered");
      const t0 = performance.now();
      const node = await supernode(keys[0]!.privateKeyPath);
      await node.waitFor(`SuperNode ID: ${id}`, 30_000);
      expect(await waitStatus(id, "online"), node.output()).toBe("online");
      process.stdout.write(
        `flwr-ts SuperNode online on Python 1.39: ${(performance.now() - t0).toFixed(0)} ms\n`,
      );
      // Our CLI over 1.39's HTTP Control sees the same.
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
      // 1.39 answers activation of an unknown key with FAILED_PRECONDITION {2004}.
      expect(node.output()).toMatch(/SuperNode stopped: .*Failed to activate SuperNode/);
      expect(node.output()).not.toMatch(/\n\s+at /);
    }, 60_000);

    test("unregistered by 1.39's CLI while online, the SuperNode stops", async () => {
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
