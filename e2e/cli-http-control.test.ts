/**
 * Our `flwr` CLI over Flower 1.37+'s HTTP Control API, real processes, TLS, 127.0.0.1, free ports:
 *
 * (a) a Python flwr 1.42 `flower-superlink` (TLS, `--enable-supernode-auth`, `--port <free>`,
 *     its internal gRPC Control on too, `FLWR_INTERNAL_GRPC_CONTROL_API=1`): `flwr supernode
 *     register/list/unregister` through an `https://` federation of package.json and through
 *     Flower 1.42's `$FLWR_HOME/config.toml` connection, with the same results as over its gRPC
 *     Control and as Python 1.42's own `flwr supernode list`; `flwr ls`; a gRPC guess at the HTTP
 *     port is one line naming the fix;
 * (b) the flwr-ts `flower-superlink`'s HTTP port (`--port <free>`): the same commands, the same
 *     results as over its gRPC Control port, then the seed's journey over HTTP with two
 *     flwr-ts SuperNodes: `flwr run --stream` completes, `flwr ls`, `flwr log --show`,
 *     `flwr stop` of a long run; an HTTP guess at the gRPC port is one line naming the fix.
 *
 * Run `pnpm build` first.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { pythonFlwr } from "../interop/python.js";
import { generateAuthKeys, generateCertificates } from "../packages/flwr-crypto/src/index.js";
import { superlinkArgs, supernodeArgs, waitForPort } from "./fixtures/deployment.js";
import { superlink142Args } from "./fixtures/python-1.42-deployment.js";
import { freePort } from "./support/ports.js";
import { cliPath, type RunningProcess, run, start, stopAll } from "./support/processes.js";

const py142 = pythonFlwr("1.42");

interface ListedNode {
  "node-id": string;
  status: string;
}
interface NodeList {
  success: boolean;
  nodes: ListedNode[];
}

/** A scratch directory with certificates, keys, an app copy and a `$FLWR_HOME`. */
async function scratch(prefix: string, keyCount: number) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const certs = (await generateCertificates({ outDir: join(dir, "certificates") })).paths;
  const keys = generateAuthKeys({ outDir: join(dir, "keys"), count: keyCount });
  const home = join(dir, "flwr-home");
  mkdirSync(home);
  const appDir = join(dir, "app");
  cpSync(join(import.meta.dirname, "fixtures/linear-app"), appDir, { recursive: true });
  const env = { FLWR_HOME: home, NO_COLOR: "1", FLWR_TELEMETRY_ENABLED: "0" };
  /** Our `flwr`. */
  const flwr = async (args: string[], timeoutMs = 60_000) => {
    const p = start(cliPath("flwr"), args, { env, cwd: dir });
    const timer = setTimeout(() => p.child.kill("SIGKILL"), timeoutMs);
    let stdout = "";
    p.child.stdout?.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    const code = await p.exited();
    clearTimeout(timer);
    return { code, output: p.output(), stdout };
  };
  const setFederations = (federations: Record<string, unknown>) => {
    const file = join(appDir, "package.json");
    const pkg = JSON.parse(readFileSync(file, "utf8"));
    pkg.flwr.federations = federations;
    writeFileSync(file, JSON.stringify(pkg, null, 2));
  };
  const writeConnections = (text: string) => writeFileSync(join(home, "config.toml"), text);
  return { dir, certs, keys, home, appDir, env, flwr, setFederations, writeConnections };
}

type Scratch = Awaited<ReturnType<typeof scratch>>;

/** `flwr supernode list … --format json` parsed (stdout only). */
async function listNodes(s: Scratch, target: string[]): Promise<NodeList> {
  const r = await s.flwr(["supernode", "list", ...target, "--format", "json"]);
  expect(r.code, r.output).toBe(0);
  const doc = JSON.parse(r.stdout) as NodeList;
  expect(doc.success).toBe(true);
  return doc;
}

const sortNodes = (doc: NodeList) =>
  [...doc.nodes].sort((a, b) => a["node-id"].localeCompare(b["node-id"]));

/** Registers `pub` with `target` and returns the node id from the success line. */
async function register(s: Scratch, pub: string, target: string[]): Promise<string> {
  const r = await s.flwr(["supernode", "register", pub, ...target]);
  expect(r.code, r.output).toBe(0);
  const id = /✅ SuperNode (\d+) registered successfully\./.exec(r.stdout)?.[1];
  expect(id, r.output).toBeDefined();
  return id!;
}

/** Runs `argv` and expects one error line on stderr matching `pattern`, within `ms`. */
async function expectOneLineError(s: Scratch, argv: string[], pattern: RegExp, ms = 5000) {
  const t0 = performance.now();
  const r = await s.flwr(argv);
  const took = performance.now() - t0;
  expect(r.code, r.output).toBe(1);
  const err = r.output.split("\n").filter((l) => l.startsWith("❌"));
  expect(err, r.output).toHaveLength(1);
  expect(err[0], r.output).toMatch(pattern);
  expect(r.output, r.output).not.toMatch(/\n\s+at /);
  expect(took, r.output).toBeLessThan(ms);
}

afterAll(async () => {
  await stopAll();
});

describe.skipIf(!py142.available)(
  `our flwr over HTTP Control on Python flwr ${py142.version} ${py142.problem ?? ""}`,
  () => {
    let s: Scratch;
    let superlink: RunningProcess;
    let httpPort: number;
    let grpcPort: number;
    const ids: string[] = [];
    const pyFlwr = (args: string[]) =>
      run(join(py142.binDir, "flwr"), args, { env: s.env, cwd: s.dir, timeoutMs: 60_000 });

    beforeAll(async () => {
      s = await scratch("flwr-e2e-cli-http-py-", 3);
      httpPort = await freePort();
      grpcPort = await freePort();
      superlink = start(
        join(py142.binDir, "flower-superlink"),
        [
          ...superlink142Args(s.certs, httpPort),
          // No SuperExec needed: nothing runs here.
          "--isolation",
          "process",
          "--control-api-address",
          `127.0.0.1:${grpcPort}`,
        ],
        { env: { ...s.env, FLWR_INTERNAL_GRPC_CONTROL_API: "1" }, cwd: s.dir },
      );
      await superlink.waitFor(`Uvicorn running on https://127.0.0.1:${httpPort}`, 60_000);
      await waitForPort(grpcPort);
      s.setFederations({
        default: "py-http",
        "py-http": {
          address: `https://127.0.0.1:${httpPort}`,
          "root-certificates": s.certs.caCert,
        },
        "py-grpc": { address: `127.0.0.1:${grpcPort}`, "root-certificates": s.certs.caCert },
        "py-guess-grpc": { address: `127.0.0.1:${httpPort}`, "root-certificates": s.certs.caCert },
      });
      // Flower 1.42's connection file, read by our CLI and by Python's.
      s.writeConnections(
        `[superlink]\ndefault = "py"\n\n[superlink.py]\naddress = "127.0.0.1:${httpPort}"\nroot-certificates = "${s.certs.caCert}"\n`,
      );
    }, 90_000);

    afterAll(async () => {
      await superlink?.stop("SIGTERM", 10_000);
      if (s) rmSync(s.dir, { recursive: true, force: true });
    });

    test("register over HTTP in both forms; list equals gRPC Control's and Python 1.42's", async () => {
      ids.push(await register(s, s.keys[0]!.publicKeyPath, [s.appDir, "py-http"]));
      ids.push(await register(s, s.keys[1]!.publicKeyPath, ["py"]));
      const json = await s.flwr([
        "supernode",
        "register",
        s.keys[2]!.publicKeyPath,
        "py",
        "--format",
        "json",
      ]);
      expect(json.code, json.output).toBe(0);
      const id3 = /^\{\n {2}"success": true,\n {2}"node-id": (\d+)\n\}\n$/.exec(json.stdout)?.[1];
      expect(id3, json.stdout).toBeDefined();
      ids.push(id3!);

      const overHttp = await listNodes(s, [s.appDir, "py-http"]);
      expect(sortNodes(overHttp).map((n) => n["node-id"])).toEqual([...ids].sort());
      expect(overHttp.nodes.every((n) => n.status === "registered")).toBe(true);
      expect(await listNodes(s, ["py"])).toEqual(overHttp);
      expect(await listNodes(s, [s.appDir, "py-grpc"])).toEqual(overHttp);
      const table = await s.flwr(["supernode", "list", s.appDir, "py-http"]);
      const tableGrpc = await s.flwr(["supernode", "list", s.appDir, "py-grpc"]);
      expect(table.stdout).toBe(tableGrpc.stdout);
      for (const id of ids)
        expect(table.stdout).toMatch(new RegExp(`│ ${id}\\s+│ none\\s+│ registered │`));

      const python = await pyFlwr(["supernode", "list", "py", "--format", "json"]);
      expect(python.code, python.output).toBe(0);
      const pyDoc = JSON.parse(python.output.slice(python.output.indexOf("{"))) as NodeList;
      expect(pyDoc.nodes.map((n) => String(n["node-id"])).sort()).toEqual([...ids].sort());
    }, 120_000);

    test("duplicate key and unknown node: the same lines over HTTP and gRPC", async () => {
      for (const fed of ["py-http", "py-grpc"]) {
        const dup = await s.flwr([
          "supernode",
          "register",
          s.keys[0]!.publicKeyPath,
          s.appDir,
          fed,
        ]);
        expect(dup.code, dup.output).toBe(1);
        expect(dup.output).toContain(
          "❌ The provided public key is already in use by another SuperNode.",
        );
        const unknown = await s.flwr(["supernode", "unregister", "42", s.appDir, fed]);
        expect(unknown.code).toBe(1);
        expect(unknown.output).toContain("❌ Node ID not found for this account.");
      }
    }, 60_000);

    test("unregister over HTTP; list hides it unless -v, JSON keeps it", async () => {
      const un = await s.flwr(["supernode", "unregister", ids[1]!, "py"]);
      expect(un.code, un.output).toBe(0);
      expect(un.stdout).toBe(
        `Using SuperLink: py (https://127.0.0.1:${httpPort})\n✅ SuperNode ${ids[1]} unregistered successfully.\n`,
      );
      const un2 = await s.flwr([
        "supernode",
        "unregister",
        ids[2]!,
        s.appDir,
        "py-http",
        "--format",
        "json",
      ]);
      expect(un2.stdout).toBe(`{\n  "success": true,\n  "node-id": ${ids[2]}\n}\n`);
      const doc = await listNodes(s, ["py"]);
      expect(sortNodes(doc).map((n) => `${n["node-id"]}:${n.status}`)).toEqual(
        [`${ids[0]}:registered`, `${ids[1]}:unregistered`, `${ids[2]}:unregistered`].sort(),
      );
      expect(await listNodes(s, [s.appDir, "py-grpc"])).toEqual(doc);
      const table = await s.flwr(["supernode", "list", "py"]);
      expect(table.stdout).not.toContain(ids[1]!);
      const verbose = await s.flwr(["supernode", "list", "py", "-v"]);
      expect(verbose.stdout).toMatch(new RegExp(`│ ${ids[1]}\\s+│ none\\s+│ unregistered │`));
    }, 60_000);

    test("flwr ls over HTTP: an empty run table, the same as over gRPC", async () => {
      const table = await s.flwr(["ls", s.appDir, "py-http"]);
      expect(table.code, table.output).toBe(0);
      expect(table.stdout).toMatch(/^📄 Listing all runs\.\.\.\n┏.*Run ID.*Federation/s);
      expect((await s.flwr(["ls", s.appDir, "py-grpc"])).stdout).toBe(table.stdout);
      const json = await s.flwr(["ls", "py", "--format", "json"]);
      expect(JSON.parse(json.stdout)).toEqual({ success: true, runs: [] });
      const unknown = await s.flwr(["ls", "py", "--run-id", "5"]);
      expect(unknown.code).toBe(1);
      expect(unknown.output).toContain("❌ Run ID not found.");
    }, 60_000);

    test("a gRPC guess at the HTTP port is one line naming the fix", async () => {
      await expectOneLineError(
        s,
        ["supernode", "list", s.appDir, "py-guess-grpc"],
        new RegExp(
          `^❌ The SuperLink at 127\\.0\\.0\\.1:${httpPort} speaks Flower's HTTP Control API .*not gRPC: set "address": "https://127\\.0\\.0\\.1:${httpPort}"`,
        ),
      );
    }, 30_000);
  },
);

describe("our flwr over the flwr-ts SuperLink's HTTP port", () => {
  let s: Scratch;
  let superlink: RunningProcess;
  const supernodes: RunningProcess[] = [];
  let ports: { fleet: number; control: number; serverappio: number; http: number };
  const ids: string[] = [];

  beforeAll(async () => {
    s = await scratch("flwr-e2e-cli-http-ts-", 3);
    ports = {
      fleet: await freePort(),
      control: await freePort(),
      serverappio: await freePort(),
      http: await freePort(),
    };
    superlink = start(
      cliPath("flower-superlink"),
      [...superlinkArgs(s.certs, ports), "--port", String(ports.http)],
      { env: s.env, cwd: s.dir },
    );
    await superlink.waitFor(
      `Starting HTTP API (Fleet, Control) on 127.0.0.1:${ports.http}`,
      30_000,
    );
    await waitForPort(ports.control);
    const ca = s.certs.caCert;
    s.setFederations({
      default: "ts-http",
      "ts-http": { address: `https://127.0.0.1:${ports.http}`, "root-certificates": ca },
      "ts-grpc": { address: `127.0.0.1:${ports.control}`, "root-certificates": ca },
      "ts-guess-http": { address: `https://127.0.0.1:${ports.control}`, "root-certificates": ca },
    });
    s.writeConnections(
      `[superlink]\ndefault = "ts"\n\n[superlink.ts]\naddress = "127.0.0.1:${ports.http}"\nroot-certificates = "${ca}"\n`,
    );
  }, 90_000);

  afterAll(async () => {
    await Promise.all(supernodes.map((p) => p.stop("SIGTERM", 5000)));
    await superlink?.stop("SIGTERM", 5000);
    if (s) rmSync(s.dir, { recursive: true, force: true });
  });

  test("register/list/unregister over HTTP equal gRPC Control's", async () => {
    ids.push(await register(s, s.keys[0]!.publicKeyPath, [s.appDir, "ts-http"]));
    ids.push(await register(s, s.keys[1]!.publicKeyPath, ["ts"]));
    ids.push(await register(s, s.keys[2]!.publicKeyPath, [s.appDir, "ts-grpc"]));
    const overHttp = await listNodes(s, [s.appDir, "ts-http"]);
    expect(sortNodes(overHttp).map((n) => n["node-id"])).toEqual([...ids].sort());
    expect(await listNodes(s, [s.appDir, "ts-grpc"])).toEqual(overHttp);
    expect(await listNodes(s, ["ts"])).toEqual(overHttp);
    const table = await s.flwr(["supernode", "list", s.appDir]); // the default: ts-http
    expect(table.stdout).toBe((await s.flwr(["supernode", "list", s.appDir, "ts-grpc"])).stdout);

    const dup = await s.flwr(["supernode", "register", s.keys[0]!.publicKeyPath, "ts"]);
    expect(dup.code).toBe(1);
    expect(dup.output).toContain(
      "❌ The provided public key is already in use by another SuperNode.",
    );
    const un = await s.flwr(["supernode", "unregister", ids[2]!, "ts", "--format", "json"]);
    expect(un.stdout).toBe(`{\n  "success": true,\n  "node-id": ${ids[2]}\n}\n`);
    const after = await listNodes(s, ["ts"]);
    expect(after.nodes.find((n) => n["node-id"] === ids[2])?.status).toBe("unregistered");
    expect(await listNodes(s, [s.appDir, "ts-grpc"])).toEqual(after);
  }, 120_000);

  test("the seed's journey over HTTP: SuperNodes online, run --stream, ls, log, stop", async () => {
    for (const [i, key] of s.keys.slice(0, 2).entries()) {
      const p = start(
        cliPath("flower-supernode"),
        supernodeArgs(s.certs.caCert, key.privateKeyPath, ports.fleet, await freePort(), i),
        { env: s.env, cwd: s.dir },
      );
      supernodes.push(p);
    }
    await Promise.all(supernodes.map((p) => p.waitFor("SuperNode ID", 30_000)));
    const deadline = Date.now() + 30_000;
    let online: string[] = [];
    while (Date.now() < deadline) {
      online = (await listNodes(s, ["ts"])).nodes
        .filter((n) => n.status === "online")
        .map((n) => n["node-id"]);
      if (online.length === 2) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(online.sort()).toEqual(ids.slice(0, 2).sort());

    const streamed = await s.flwr(["run", s.appDir, "ts-http", "--stream"], 180_000);
    expect(streamed.code, streamed.output).toBe(0);
    const runId = /Successfully started run (\d+)/.exec(streamed.stdout)?.[1];
    expect(runId, streamed.output).toBeDefined();
    for (const round of [1, 2, 3]) expect(streamed.stdout).toContain(`[ROUND ${round}/3]`);
    expect(streamed.stdout).toMatch(/final model: w=\[/);

    const ls = await s.flwr(["ls", "ts", "--run-id", runId!, "--format", "json"]);
    const lsGrpc = await s.flwr([
      "ls",
      s.appDir,
      "ts-grpc",
      "--run-id",
      runId!,
      "--format",
      "json",
    ]);
    const doc = JSON.parse(ls.stdout) as { runs: { "run-id": string; status: string }[] };
    expect(doc.runs.map((r) => `${r["run-id"]}:${r.status}`)).toEqual([
      `${runId}:finished:completed`,
    ]);
    expect(JSON.parse(lsGrpc.stdout)).toEqual(doc);
    const table = await s.flwr(["ls", s.appDir, "ts-http"]);
    expect(table.stdout).toMatch(new RegExp(`│ ${runId}\\s+│.*finished:completed`));

    const log = await s.flwr(["log", runId!, s.appDir, "ts-http", "--show"]);
    expect(log.code, log.output).toBe(0);
    expect(log.stdout).toContain("[ROUND 3/3]");

    const again = await s.flwr(["stop", runId!, "ts"]);
    expect(again.code).toBe(1);
    expect(again.output).toMatch(/❌ .*already finished/);

    // A long run stopped over HTTP.
    const started = await s.flwr([
      "run",
      s.appDir,
      "ts",
      "--run-config",
      "num-server-rounds=1000 round-delay-ms=300",
      "--format",
      "json",
    ]);
    expect(started.code, started.output).toBe(0);
    const longRun = (JSON.parse(started.stdout) as { "run-id": string })["run-id"];
    const stopped = await s.flwr(["stop", longRun, s.appDir, "ts-http"]);
    expect(stopped.code, stopped.output).toBe(0);
    expect(stopped.stdout).toContain(`Run ${longRun} successfully stopped`);
    const until = Date.now() + 60_000;
    let status = "";
    while (Date.now() < until) {
      const r = await s.flwr(["ls", "ts", "--run-id", longRun, "--format", "json"]);
      status = (JSON.parse(r.stdout) as { runs: { status: string }[] }).runs[0]?.status ?? "";
      if (status.startsWith("finished")) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(status).toBe("finished:stopped");
  }, 300_000);

  test("an HTTP guess at the gRPC port is one line naming the fix", async () => {
    await expectOneLineError(
      s,
      ["supernode", "list", s.appDir, "ts-guess-http"],
      new RegExp(
        `^❌ The SuperLink at https://127\\.0\\.0\\.1:${ports.control} speaks gRPC Control .*not HTTP: set "address": "127\\.0\\.0\\.1:${ports.control}"`,
      ),
    );
  }, 30_000);
});
