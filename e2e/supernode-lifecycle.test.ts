/**
 * The seed's SuperNode journey with real processes on 127.0.0.1, TLS and SuperNode
 * authentication on, against each available SuperLink (Python flwr 1.29's, and flwr-ts's once
 * its bin is built):
 * our `flwr supernode register` → our and Python's `flwr supernode list` → two of our
 * SuperNodes online within 2 s → SIGTERM deactivates → unregistered key and missing root
 * certificate fail clearly → SuperLink SIGKILL + restart on SQLite: the SuperNodes reconnect by
 * themselves → the CLI against a stopped SuperLink prints one line.
 * Figures (time to online, idle RSS, reconnect time) are printed for the report.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { pythonBinDir, pythonFlwrAvailable, pythonFlwrProblem } from "../interop/python.js";
import { ControlDefinition } from "../packages/flwr-core/src/proto/index.js";
import { generateAuthKeys, generateCertificates } from "../packages/flwr-crypto/src/index.js";
import { channelCredentials, createClient } from "../packages/flwr-transport/src/grpc/index.js";
import { freePort } from "./support/ports.js";
import { cliPath, type RunningProcess, run, start, stopAll } from "./support/processes.js";

interface SuperLinkKind {
  readonly name: string;
  readonly available: boolean;
  readonly why: string;
  /** Accepts `--database <file>` (SQLite), needed for the restart test. */
  readonly sqlite: boolean;
  /** Command and args (minus addresses and TLS flags). */
  readonly command: () => [string, string[]];
}

const tsSuperLink = cliPath("flower-superlink");

/** Whether the built flwr-ts SuperLink opens SQLite databases yet. */
function tsSuperLinkHasSqlite(): boolean {
  const openStores = join(tsSuperLink, "../../superlink/cli/open-stores.js");
  return (
    existsSync(openStores) &&
    !readFileSync(openStores, "utf8").includes("SQLite LinkState is not available")
  );
}
const KINDS: SuperLinkKind[] = [
  {
    name: "Python flwr 1.29 SuperLink",
    available: pythonFlwrAvailable,
    why: pythonFlwrProblem ?? "",
    sqlite: true,
    command: () => [join(pythonBinDir, "flower-superlink"), ["--isolation", "process"]],
  },
  {
    name: "flwr-ts SuperLink",
    available: existsSync(tsSuperLink),
    why: "packages/flwr-transport/dist/cli/flower-superlink.js is not built",
    sqlite: tsSuperLinkHasSqlite(),
    command: () => [tsSuperLink, ["--port", "0"]],
  },
];

function waitForPort(port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve();
      });
      socket.once("error", () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`port ${port} did not open`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// FLWR_E2E_SUPERLINK=python or =ts runs one kind only.
const only = process.env["FLWR_E2E_SUPERLINK"];
for (const kind of KINDS.filter(
  (k) => !only || k.name.toLowerCase().includes(only === "ts" ? "flwr-ts" : only),
)) {
  describe.skipIf(!kind.available)(`SuperNode lifecycle against the ${kind.name}`, () => {
    if (!kind.available) test.skip(kind.why, () => {});
    let dir: string;
    let appDir: string;
    let flwrHome: string;
    let certs: Awaited<ReturnType<typeof generateCertificates>>["paths"];
    let keys: ReturnType<typeof generateAuthKeys>;
    const ports = { fleet: 0, control: 0, serverappio: 0 };
    let superlink: RunningProcess;
    const nodeIds: string[] = [];
    const supernodes: RunningProcess[] = [];

    const startSuperLink = async () => {
      const [cmd, extra] = kind.command();
      superlink = start(cmd, [
        ...extra,
        "--ssl-ca-certfile",
        certs.caCert,
        "--ssl-certfile",
        certs.serverCert,
        "--ssl-keyfile",
        certs.serverKey,
        "--enable-supernode-auth",
        ...(kind.sqlite ? ["--database", join(dir, "state.db")] : []),
        "--fleet-api-address",
        `127.0.0.1:${ports.fleet}`,
        "--control-api-address",
        `127.0.0.1:${ports.control}`,
        "--serverappio-api-address",
        `127.0.0.1:${ports.serverappio}`,
      ]);
      await Promise.all([waitForPort(ports.fleet), waitForPort(ports.control)]);
    };

    const flwr = (args: string[]) =>
      run(cliPath("flwr"), ["supernode", ...args], { timeoutMs: 30_000 });
    const pythonFlwr = (args: string[]) =>
      run(join(pythonBinDir, "flwr"), ["supernode", ...args], {
        env: { FLWR_HOME: flwrHome, NO_COLOR: "1" },
        timeoutMs: 60_000,
      });
    const ourStatuses = async (): Promise<Record<string, string>> => {
      const r = await flwr(["list", appDir, "my-federation", "--format", "json"]);
      expect(r.code, r.output).toBe(0);
      const doc = JSON.parse(r.output) as { nodes: { "node-id": string; status: string }[] };
      return Object.fromEntries(doc.nodes.map((n) => [n["node-id"], n.status]));
    };
    // Each SuperNode serves its own ClientAppIo API, so each gets a free port (as in the seed).
    const startSuperNode = async (keyIndex: number, tls: string[] = ["--root-certificates"]) =>
      start(cliPath("flower-supernode"), [
        ...(tls.length > 0 ? [tls[0]!, certs.caCert] : []),
        "--auth-supernode-private-key",
        keys[keyIndex]!.privateKeyPath,
        "--superlink",
        `127.0.0.1:${ports.fleet}`,
        "--node-config",
        `dataset-path="datasets/cifar10_part_${keyIndex + 1}"`,
        `--clientappio-api-address=127.0.0.1:${await freePort()}`,
      ]);
    /** Statuses straight from the Control API (no CLI process start-up in the measurement). */
    const controlStatuses = async (): Promise<Record<string, string>> => {
      const client = createClient(
        ControlDefinition,
        `127.0.0.1:${ports.control}`,
        channelCredentials({ insecure: false, rootCertificatesFile: certs.caCert }),
      );
      try {
        const res = await client.listNodes({}, { timeoutMs: 5000 });
        return Object.fromEntries(res.nodesInfo.map((n) => [n.nodeId.toString(), n.status]));
      } finally {
        client.close();
      }
    };
    const waitForStatuses = async (want: Record<string, string>, timeoutMs: number) => {
      const t0 = performance.now();
      let seen: Record<string, string> = {};
      while (performance.now() - t0 < timeoutMs) {
        seen = await controlStatuses();
        if (Object.entries(want).every(([id, s]) => seen[id] === s)) {
          return performance.now() - t0;
        }
        await sleep(50);
      }
      throw new Error(`statuses ${JSON.stringify(seen)} never became ${JSON.stringify(want)}`);
    };

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "flwr-ts-supernode-"));
      certs = (await generateCertificates({ outDir: join(dir, "certificates") })).paths;
      keys = generateAuthKeys({ outDir: join(dir, "keys"), count: 3 });
      ports.fleet = await freePort();
      ports.control = await freePort();
      ports.serverappio = await freePort();
      appDir = join(dir, "app");
      mkdirSync(appDir);
      writeFileSync(
        join(appDir, "package.json"),
        JSON.stringify({
          name: "authexample",
          flwr: {
            app: {},
            federations: {
              default: "my-federation",
              "my-federation": {
                address: `127.0.0.1:${ports.control}`,
                "root-certificates": "../certificates/ca.crt",
              },
            },
          },
        }),
      );
      flwrHome = join(dir, "flwr-home");
      mkdirSync(flwrHome);
      writeFileSync(
        join(flwrHome, "config.toml"),
        `[superlink]\ndefault = "e2e"\n\n[superlink.e2e]\naddress = "127.0.0.1:${ports.control}"\n` +
          `root-certificates = "${certs.caCert}"\n`,
      );
      await startSuperLink();
    }, 60_000);

    afterAll(async () => {
      await stopAll();
      rmSync(dir, { recursive: true, force: true });
    });

    test("our flwr supernode register registers both keys; Python's list sees them", async () => {
      for (const key of keys.slice(0, 2)) {
        const r = await flwr(["register", key.publicKeyPath, appDir, "my-federation"]);
        expect(r.code, r.output).toBe(0);
        expect(r.output).toContain("Loading project configuration...");
        expect(r.output).toContain("Success");
        const id = /✅ SuperNode (\d+) registered successfully\./.exec(r.output)?.[1];
        expect(id).toBeDefined();
        nodeIds.push(id!);
      }
      const dup = await flwr(["register", keys[0]!.publicKeyPath, appDir]);
      expect(dup.code).toBe(1);
      expect(dup.output.trim()).toBe(
        "Loading project configuration... \nSuccess\n❌ The provided public key is already in use by another SuperNode.",
      );
      const py = await pythonFlwr(["list", "--format", "json"]);
      expect(py.code, py.output).toBe(0);
      const doc = JSON.parse(py.output.slice(py.output.indexOf("{")));
      const pyStatuses = Object.fromEntries(
        doc.nodes.map((n: { "node-id": string; status: string }) => [n["node-id"], n.status]),
      );
      expect(pyStatuses).toEqual({ [nodeIds[0]!]: "registered", [nodeIds[1]!]: "registered" });
    });

    test("our list shows both registered, as a table", async () => {
      const r = await flwr(["list", appDir, "my-federation"]);
      expect(r.code, r.output).toBe(0);
      const lines = r.output.split("\n");
      expect(lines).toContain("📄 Listing all nodes...");
      expect(lines.find((l) => l.startsWith("┃"))).toMatch(
        /^┃\s+Node ID\s+┃\s+Owner\s+┃\s+Status\s+┃\s+Elapsed\s+┃\s+Status Changed @\s+┃$/,
      );
      for (const id of nodeIds) {
        expect(lines.find((l) => l.includes(id))).toMatch(
          new RegExp(`^│ ${id}\\s+│ none\\s+│ registered │\\s+│ N/A\\s+│$`),
        );
      }
    });

    test("two SuperNodes with --node-config come online within 2 s; both CLIs agree", async () => {
      const t0 = performance.now();
      supernodes.push(...(await Promise.all([startSuperNode(0), startSuperNode(1)])));
      const activated = await Promise.all(
        supernodes.map((s) => s.waitFor(/SuperNode ID: \d+/).then(() => performance.now() - t0)),
      );
      const listedMs = await waitForStatuses(
        { [nodeIds[0]!]: "online", [nodeIds[1]!]: "online" },
        2000,
      );
      expect(listedMs).toBeLessThan(2000);
      const onlineMs = performance.now() - t0;
      console.log(
        `[${kind.name}] SuperNodes activated after ${activated.map((a) => a.toFixed(0)).join(" / ")} ms; ` +
          `both listed online after ${onlineMs.toFixed(0)} ms`,
      );
      // The seed's "online within 2 s" of starting them; on a machine whose load exceeds its cores
      // (parallel test runs) only the SuperLink's part is held to 2 s: activation → listed online.
      if (loadavg()[0]! <= cpus().length) expect(onlineMs).toBeLessThan(2000);
      else console.log(`[${kind.name}] load ${loadavg()[0]!.toFixed(1)} > ${cpus().length} cores`);
      for (const [i, sn] of supernodes.entries()) {
        expect(sn.output()).toContain(`SuperNode ID: ${nodeIds[i]}`);
      }
      expect(await ourStatuses()).toEqual({
        [nodeIds[0]!]: "online",
        [nodeIds[1]!]: "online",
      });
      const py = await pythonFlwr(["list", "--format", "json"]);
      const doc = JSON.parse(py.output.slice(py.output.indexOf("{")));
      for (const n of doc.nodes) expect(n.status).toBe("online");
      const table = await flwr(["list", appDir]);
      expect(table.output).toMatch(/│ online\s+│ 00:00:0\d\s+│ \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ │/);
      await sleep(3000);
      console.log(
        `[${kind.name}] idle SuperNode RSS: ${supernodes.map((s) => `${(rssKiB(s.child.pid!) / 1024).toFixed(1)} MiB`).join(", ")}`,
      );
    });

    test.skipIf(!kind.sqlite)(
      "SuperLink SIGKILL + restart on the same SQLite file: SuperNodes reconnect by themselves",
      async () => {
        await superlink.stop("SIGKILL");
        const marks = supernodes.map((s) => s.output().length);
        const down = performance.now();
        // Down longer than an idle SuperNode's longest poll interval (3 s against a SuperLink
        // without long polls, like Python's), so each SuperNode does see the outage; a shorter
        // outage can fall between two polls, and then there is no reconnection to observe.
        await sleep(4000);
        await startSuperLink();
        const up = performance.now();
        await Promise.all(
          supernodes.map(async (s, i) => {
            const deadline = Date.now() + 45_000;
            while (!/Connection successful after/.test(s.output().slice(marks[i]))) {
              if (Date.now() > deadline) throw new Error(`no reconnection:\n${s.output()}`);
              await sleep(50);
            }
          }),
        );
        const reconnected = performance.now();
        await waitForStatuses({ [nodeIds[0]!]: "online", [nodeIds[1]!]: "online" }, 10_000);
        console.log(
          `[${kind.name}] SuperNodes reconnected ${(reconnected - up).toFixed(0)} ms after the ` +
            `SuperLink was back (${(reconnected - down).toFixed(0)} ms after it was killed)`,
        );
        for (const s of supernodes) expect(s.child.exitCode).toBeNull();
      },
      90_000,
    );

    test("SIGKILL a SuperNode and restart it at once: online again (and offline after its window)", async () => {
      await supernodes[0]!.stop("SIGKILL");
      const killed = performance.now();
      supernodes[0] = await startSuperNode(0);
      // Python's SuperLink refuses to re-activate a node until its heartbeat window (2 × 30 s)
      // has passed; our SuperNode keeps retrying. flwr-ts's SuperLink lets the same key back at once.
      await supernodes[0]!.waitFor(/SuperNode ID: \d+/, 100_000);
      const back = await waitForStatuses({ [nodeIds[0]!]: "online" }, 10_000);
      const restartMs = performance.now() - killed;
      console.log(
        `[${kind.name}] SIGKILLed SuperNode restarted: online again ${(restartMs / 1000).toFixed(1)} s after the kill`,
      );
      expect(back).toBeLessThan(10_000);
      if (kind.name.startsWith("flwr-ts")) expect(restartMs).toBeLessThan(10_000);

      // Kill it for good: the SuperLink marks it offline once its window passes (≤ 60 s).
      await supernodes[0]!.stop("SIGKILL");
      const gone = performance.now();
      const offlineAfter = await waitForStatuses({ [nodeIds[0]!]: "offline" }, 75_000);
      console.log(
        `[${kind.name}] SIGKILLed SuperNode listed offline ${((performance.now() - gone) / 1000).toFixed(1)} s after the kill`,
      );
      expect(offlineAfter).toBeGreaterThan(0);
      supernodes[0] = await startSuperNode(0);
      await supernodes[0]!.waitFor(/SuperNode ID: \d+/, 30_000);
      await waitForStatuses({ [nodeIds[0]!]: "online" }, 10_000);
    }, 240_000);

    test("SIGTERM deactivates the SuperNode: offline at once, exit status 0", async () => {
      const code = await supernodes[1]!.stop("SIGTERM");
      expect(code).toBe(0);
      expect(supernodes[1]!.output()).toContain("SuperNode terminated gracefully.");
      const statuses = await ourStatuses();
      expect(statuses[nodeIds[1]!]).toBe("offline");
      expect(statuses[nodeIds[0]!]).toBe("online");
    });

    test("a SuperNode with an unregistered key exits non-zero with a clear message", async () => {
      const sn = await startSuperNode(2);
      const code = await sn.exited();
      expect(code).toBe(1);
      expect(sn.output()).toContain(
        "SuperNode's public key is not registered with the SuperLink. Register it with: flwr supernode register",
      );
      expect(sn.output()).not.toMatch(/\n\s+at /); // no stack trace
    });

    test("a SuperNode without the root certificate fails the TLS handshake clearly", async () => {
      const sn = await startSuperNode(1, []);
      expect(await sn.exited()).toBe(1);
      expect(sn.output()).toMatch(/TLS handshake with the SuperLink at 127\.0\.0\.1:\d+ failed/);
      expect(sn.output()).toContain("--root-certificates");
    });

    test("the CLI against a stopped SuperLink says so in one line", async () => {
      await superlink.stop("SIGTERM");
      const r = await flwr(["list", appDir, "my-federation"]);
      expect(r.code).toBe(1);
      const errors = r.output.split("\n").filter((l) => l.startsWith("❌"));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(
        new RegExp(`^❌ Cannot connect to the SuperLink at 127\\.0\\.0\\.1:${ports.control} `),
      );
      expect(r.output).not.toMatch(/\n\s+at /);
      const reg = await flwr(["register", keys[2]!.publicKeyPath, appDir, "--format", "json"]);
      expect(reg.code).toBe(1);
      expect(JSON.parse(reg.output)).toMatchObject({ success: false });
    });
  });
}
