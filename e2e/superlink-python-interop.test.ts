/**
 * Interop: OUR flower-superlink (built, real process, TLS + --enable-supernode-auth) driven by
 * Python flwr 1.29: `flwr supernode register/list` over the Control API, and a Python
 * `flower-supernode` with its key that connects over TLS and shows online.
 * Run `pnpm build` first. Prints the SuperLink's start-up time and idle RSS.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { pythonBinDir, pythonFlwrAvailable, pythonFlwrProblem } from "../interop/python.js";
import { generateAuthKeys, generateCertificates } from "../packages/flwr-crypto/src/index.js";
import { freePort } from "./support/ports.js";
import { cliPath, type RunningProcess, start, stopAll } from "./support/processes.js";

const run = promisify(execFile);

interface ListedNode {
  "node-id": number | string;
  status: string;
  "owner-name": string;
}

describe.skipIf(!pythonFlwrAvailable)(
  `our SuperLink with Python flwr ${pythonFlwrProblem ?? ""}`,
  () => {
    let dir: string;
    let ca: string;
    let fleetPort: number;
    let superlink: RunningProcess;
    const env = () => ({
      FLWR_HOME: join(dir, "flwr-home"),
      NO_COLOR: "1",
      FLWR_TELEMETRY_ENABLED: "0",
    });
    const flwr = async (...args: string[]) => {
      const { stdout } = await run(join(pythonBinDir, "flwr"), args, {
        env: { ...process.env, ...env() },
        timeout: 60_000,
      });
      return stdout;
    };
    const listNodes = async (): Promise<ListedNode[]> => {
      const out = await flwr("supernode", "list", "e2e", "--format", "json");
      const parsed = JSON.parse(out.slice(out.indexOf("{"))) as {
        success: boolean;
        nodes: ListedNode[];
      };
      expect(parsed.success).toBe(true);
      return parsed.nodes;
    };

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "flwr-e2e-superlink-"));
      const certs = await generateCertificates({ outDir: join(dir, "certificates") });
      ca = certs.paths.caCert;
      fleetPort = await freePort();
      const controlPort = await freePort();
      const appioPort = await freePort();
      const startedAt = performance.now();
      superlink = start(cliPath("flower-superlink"), [
        "--ssl-ca-certfile",
        ca,
        "--ssl-certfile",
        certs.paths.serverCert,
        "--ssl-keyfile",
        certs.paths.serverKey,
        "--enable-supernode-auth",
        "--fleet-api-address",
        `127.0.0.1:${fleetPort}`,
        "--control-api-address",
        `127.0.0.1:${controlPort}`,
        "--serverappio-api-address",
        `127.0.0.1:${appioPort}`,
        "--port",
        "0",
      ]);
      await superlink.waitFor("Starting Fleet API (gRPC-rere)", 20_000);
      const startupMs = performance.now() - startedAt;
      const home = join(dir, "flwr-home");
      await run("mkdir", ["-p", home]);
      writeFileSync(
        join(home, "config.toml"),
        `[superlink]\ndefault = "e2e"\n\n[superlink.e2e]\naddress = "127.0.0.1:${controlPort}"\nroot-certificates = "${ca}"\n`,
      );
      process.stdout.write(
        `flwr-ts SuperLink start-up: ${startupMs.toFixed(0)} ms (spawn → Fleet API bound)\n`,
      );
    }, 60_000);

    afterAll(async () => {
      await stopAll();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test("Python `flwr supernode register/list`, then a Python flower-supernode goes online", async () => {
      const [key] = generateAuthKeys({ outDir: join(dir, "keys"), count: 1 });
      const registered = await flwr("supernode", "register", key!.publicKeyPath, "e2e");
      expect(registered).toMatch(/registered successfully/);
      const nodeId = /SuperNode (\d+) registered/.exec(registered)?.[1];
      expect(nodeId).toBeDefined();
      let nodes = await listNodes();
      expect(nodes.map((n) => String(n["node-id"]))).toContain(nodeId);
      expect(nodes.find((n) => String(n["node-id"]) === nodeId)?.status).toBe("registered");

      // The same key again: Flower's duplicate message reaches the Python CLI.
      const duplicate = await flwr("supernode", "register", key!.publicKeyPath, "e2e").then(
        () => "",
        (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ""}${e.stderr ?? ""}`,
      );
      expect(duplicate).toMatch(/already in use/i);

      const supernode = start(
        join(pythonBinDir, "flower-supernode"),
        [
          "--root-certificates",
          ca,
          "--auth-supernode-private-key",
          key!.privateKeyPath,
          "--superlink",
          `127.0.0.1:${fleetPort}`,
          "--clientappio-api-address",
          `127.0.0.1:${await freePort()}`,
          "--isolation",
          "process",
        ],
        { env: env() },
      );
      const deadline = Date.now() + 45_000;
      let status = "";
      while (Date.now() < deadline) {
        nodes = await listNodes();
        status = nodes.find((n) => String(n["node-id"]) === nodeId)?.status ?? "";
        if (status === "online") break;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(status, supernode.output()).toBe("online");

      // Idle RSS of our SuperLink with one connected SuperNode.
      const pid = superlink.child.pid!;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
      process.stdout.write(`flwr-ts SuperLink RSS with one SuperNode: ${Number(rss) / 1024} MiB\n`);

      // A graceful SuperNode stop deactivates it.
      await supernode.stop("SIGTERM", 10_000);
      nodes = await listNodes();
      expect(nodes.find((n) => String(n["node-id"]) === nodeId)?.status).toBe("offline");
      expect(superlink.output()).not.toMatch(/Unexpected error/);
    }, 120_000);
  },
);
