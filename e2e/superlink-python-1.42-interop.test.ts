/**
 * Interop: OUR flower-superlink (built CLI, real process, TLS + --enable-supernode-auth, free
 * ports on 127.0.0.1) serving Flower 1.42's HTTP API (Fleet and Control as protobuf over HTTP on
 * `--port`) beside its 1.29 gRPC ports, driven by Python flwr 1.42 (`.venv-1.42`):
 * 1. 1.42's `flwr supernode register/list/unregister <connection>` over HTTP Control
 *    (connection in `$FLWR_HOME/config.toml`), and the same nodes seen over our gRPC Control
 *    (and by Python 1.29's CLI): one state behind both wires;
 * 2. a 1.42 `flower-supernode` over HTTP Fleet and a 1.29 `flower-supernode` over gRPC Fleet,
 *    online together in one list; SIGTERM takes each offline at once;
 * 3. hostile HTTP requests from this test (node:https with the CA): unsigned, forged, stale,
 *    replayed and node-id-mismatched Fleet calls are 401 JSON; 404/405/415/400 as 1.42 answers;
 *    `GET /health` 200; never a 500;
 * 4. 1.42 SuperNodes the SuperLink must refuse (no key, an unregistered key) exit with Flower's
 *    codes.
 * Run `pnpm build` first. Prints the measured figures (start-up, time to online, CLI latency).
 * Skipped when `.venv-1.42` is missing outside CI (in CI `pythonFlwr` throws instead); the 1.29
 * parts are skipped when `.venv` is missing outside CI.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { pythonFlwr } from "../interop/python.js";
import { ControlDefinition, FleetDefinition } from "../packages/flwr-core/src/proto/index.js";
import {
  type GeneratedAuthKey,
  generateAuthKeys,
  generateCertificates,
  generateEcKeyPair,
  loadPrivateKey,
} from "../packages/flwr-crypto/src/index.js";
import { channelCredentials, createClient } from "../packages/flwr-transport/src/grpc/index.js";
import { launchedPids, reap } from "./fixtures/python-deployment.js";
import {
  type HttpsAnswer,
  type HttpsTarget,
  httpsCall,
  nodeAuthHeaders,
} from "./support/https-api.js";
import { freePort } from "./support/ports.js";
import { cliPath, type RunningProcess, run, start, stopAll } from "./support/processes.js";

const py142 = pythonFlwr("1.42");
const py129 = pythonFlwr("1.29");

interface ListedNode {
  "node-id": number | string;
  status: string;
  "owner-name": string;
}

/** Flower's log lines carry ANSI colours even when not on a TTY (notes §B). */
const stripAnsi = stripVTControlCharacters;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const figures: string[] = [];
const figure = (line: string) => {
  figures.push(line);
  process.stdout.write(`${line}\n`);
};

const M = FleetDefinition.methods;
const PROTOBUF = { "content-type": "application/protobuf" };
/** Flower 1.42's node-auth failure, whatever the cause (notes §A.2); flwr-ts names the cause. */
const AUTH_DETAILS = [
  "Invalid SuperNode authentication",
  "Missing authentication metadata",
  "Invalid signature",
  "Invalid timestamp",
  "Invalid node ID",
  "Invalid public key",
  "Replayed request",
];

describe.skipIf(!py142.available)(
  `our SuperLink's HTTP API with Python flwr ${py142.version} ${py142.problem ?? ""}`,
  () => {
    let dir: string;
    let ca: string;
    let keys: GeneratedAuthKey[];
    const ports = { fleet: 0, control: 0, serverappio: 0, http: 0 };
    let superlink: RunningProcess;
    let target: HttpsTarget;
    /** Node ids by key index (0: registered by 1.42 over HTTP, 1: by 1.29 over gRPC or 1.42). */
    const nodeIds: string[] = [];
    const supernodes: Record<string, RunningProcess> = {};
    /** Every HTTP answer the hostile checks got, to assert that none was a 500. */
    const answers: { what: string; status: number }[] = [];

    const home = () => join(dir, "home");
    const env142 = () => ({
      HOME: home(),
      FLWR_HOME: join(dir, "flwr-home-1.42"),
      NO_COLOR: "1",
      FLWR_TELEMETRY_ENABLED: "0",
      FLWR_DISABLE_UPDATE_CHECK: "1",
      PYTHONUNBUFFERED: "1",
      // A 1.42 SuperNode launches `flower-superexec` from PATH: 1.42's, not 1.29's.
      PATH: `${py142.binDir}:${process.env["PATH"] ?? ""}`,
    });
    const env129 = () => ({
      ...env142(),
      FLWR_HOME: join(dir, "flwr-home-1.29"),
      PATH: `${py129.binDir}:${process.env["PATH"] ?? ""}`,
    });
    /** Python 1.42's `flwr` (connection `e2e` = our HTTP port); output with ANSI codes removed. */
    const flwr142 = async (...args: string[]) => {
      const r = await run(join(py142.binDir, "flwr"), args, {
        env: env142(),
        cwd: dir,
        timeoutMs: 60_000,
      });
      return { code: r.code, output: stripAnsi(r.output) };
    };
    /** Python 1.29's `flwr` (connection `e2e` = our gRPC Control port). */
    const flwr129 = async (...args: string[]) => {
      const r = await run(join(py129.binDir, "flwr"), args, {
        env: env129(),
        cwd: dir,
        timeoutMs: 60_000,
      });
      return { code: r.code, output: stripAnsi(r.output) };
    };
    const parseList = (out: string): ListedNode[] => {
      const parsed = JSON.parse(out.slice(out.indexOf("{"))) as {
        success: boolean;
        nodes?: ListedNode[];
        "error-message"?: string;
      };
      expect(parsed.success, out).toBe(true);
      return parsed.nodes ?? [];
    };
    /** Statuses by node id from Python 1.42's `flwr supernode list e2e --format json`. */
    const list142 = async (): Promise<Record<string, string>> => {
      const t0 = performance.now();
      const r = await flwr142("supernode", "list", "e2e", "--format", "json");
      const ms = performance.now() - t0;
      expect(r.code, r.output).toBe(0);
      if (!figures.some((f) => f.startsWith("1.42 `flwr supernode list`")))
        figure(`1.42 \`flwr supernode list\` (process start to exit): ${ms.toFixed(0)} ms`);
      return Object.fromEntries(parseList(r.output).map((n) => [String(n["node-id"]), n.status]));
    };
    /** Statuses by node id from Python 1.29's CLI over our gRPC Control. */
    const list129 = async (): Promise<Record<string, string>> => {
      const r = await flwr129("supernode", "list", "e2e", "--format", "json");
      expect(r.code, r.output).toBe(0);
      return Object.fromEntries(parseList(r.output).map((n) => [String(n["node-id"]), n.status]));
    };
    /** Statuses by node id straight from our SuperLink's gRPC Control API. */
    const grpcStatuses = async (): Promise<Record<string, string>> => {
      const client = createClient(
        ControlDefinition,
        `127.0.0.1:${ports.control}`,
        channelCredentials({ insecure: false, rootCertificatesFile: ca }),
        { channelOptions: { "grpc.ssl_target_name_override": "localhost" } },
      );
      try {
        const res = await client.listNodes({}, { timeoutMs: 5000 });
        return Object.fromEntries(res.nodesInfo.map((n) => [n.nodeId.toString(), n.status]));
      } finally {
        client.close();
      }
    };
    const waitForGrpcStatuses = async (want: Record<string, string>, timeoutMs: number) => {
      const t0 = performance.now();
      let seen: Record<string, string> = {};
      while (performance.now() - t0 < timeoutMs) {
        seen = await grpcStatuses();
        if (Object.entries(want).every(([id, s]) => seen[id] === s)) return performance.now() - t0;
        await sleep(50);
      }
      throw new Error(`statuses ${JSON.stringify(seen)} never became ${JSON.stringify(want)}`);
    };
    /** One raw HTTPS request to our HTTP API, remembered for the no-500 check. */
    const call = async (
      what: string,
      method: string,
      path: string,
      options: { body?: Uint8Array; headers?: Record<string, string> } = {},
    ): Promise<HttpsAnswer> => {
      const a = await httpsCall(target, method, path, options);
      answers.push({ what, status: a.status });
      return a;
    };
    const expect401 = (a: HttpsAnswer, what: string) => {
      expect(a.status, `${what}: ${a.body.toString()}`).toBe(401);
      expect(a.headers["content-type"], what).toMatch(/^application\/json/);
      expect(a.headers["www-authenticate"], what).toBeUndefined();
      const detail = (a.json as { detail?: unknown }).detail;
      expect(AUTH_DETAILS, `${what}: ${String(detail)}`).toContain(detail);
    };
    const supernode142 = (key: GeneratedAuthKey | undefined, runtimePort: number) =>
      start(
        join(py142.binDir, "flower-supernode"),
        [
          "--root-certificates",
          ca,
          ...(key ? ["--auth-supernode-private-key", key.privateKeyPath] : []),
          "--superlink",
          `127.0.0.1:${ports.http}`,
          "--host",
          "127.0.0.1",
          "--port",
          String(runtimePort),
        ],
        { env: env142(), cwd: dir },
      );
    const runtimePorts: number[] = [];

    beforeAll(async () => {
      if (!py129.available)
        figure(
          `Python flwr 1.29 unavailable (${py129.problem}): its SuperNode and CLI are left out`,
        );
      dir = mkdtempSync(join(tmpdir(), "flwr-e2e-superlink-142-"));
      mkdirSync(home());
      const certs = await generateCertificates({ outDir: join(dir, "certificates") });
      ca = certs.paths.caCert;
      target = { port: 0, ca: readFileSync(ca) };
      keys = generateAuthKeys({ outDir: join(dir, "keys"), count: 3 });
      // Free ports can be taken by someone else before we bind them: start again with new ones.
      for (let attempt = 1; ; attempt++) {
        ports.fleet = await freePort();
        ports.control = await freePort();
        ports.serverappio = await freePort();
        ports.http = await freePort();
        const startedAt = performance.now();
        superlink = start(cliPath("flower-superlink"), [
          "--ssl-ca-certfile",
          ca,
          "--ssl-certfile",
          certs.paths.serverCert,
          "--ssl-keyfile",
          certs.paths.serverKey,
          "--enable-supernode-auth",
          // No run is started here: no ServerApp SuperExec needed.
          "--isolation",
          "process",
          "--fleet-api-address",
          `127.0.0.1:${ports.fleet}`,
          "--control-api-address",
          `127.0.0.1:${ports.control}`,
          "--serverappio-api-address",
          `127.0.0.1:${ports.serverappio}`,
          "--host",
          "127.0.0.1",
          "--port",
          String(ports.http),
        ]);
        try {
          await superlink.waitFor(
            `Starting HTTP API (Fleet, Control) on 127.0.0.1:${ports.http}`,
            20_000,
          );
        } catch (error) {
          await superlink.stop("SIGKILL");
          if (attempt >= 3) throw error;
          continue;
        }
        figure(
          `flwr-ts SuperLink start-up: ${(performance.now() - startedAt).toFixed(0)} ms (spawn → HTTP API bound)`,
        );
        break;
      }
      target = { port: ports.http, ca: readFileSync(ca) };
      // 1.42's CLI: the connection's address is the SuperLink's HTTP port (notes §D).
      for (const [version, port] of [
        ["1.42", ports.http],
        ["1.29", ports.control],
      ] as const) {
        const flwrHome = join(dir, `flwr-home-${version}`);
        mkdirSync(flwrHome);
        writeFileSync(
          join(flwrHome, "config.toml"),
          `[superlink]\ndefault = "e2e"\n\n[superlink.e2e]\naddress = "127.0.0.1:${port}"\n` +
            `root-certificates = "${ca}"\n`,
        );
      }
      for (let i = 0; i < 3; i++) runtimePorts.push(await freePort());
    }, 60_000);

    afterAll(async () => {
      await Promise.all(Object.values(supernodes).map((p) => p.stop("SIGTERM", 10_000)));
      await superlink?.stop("SIGTERM", 5_000);
      // The SuperExecs the 1.42 SuperNodes launched name their SuperNode's Runtime API address.
      await reap(launchedPids(runtimePorts.map((p) => `127.0.0.1:${p}`)), 5_000);
      await stopAll();
      if (dir) rmSync(dir, { recursive: true, force: true });
      process.stdout.write(`\n== figures ==\n${figures.join("\n")}\n`);
    });

    test("1.42 `flwr supernode register` over HTTP Control; HTTP and gRPC Control list the same nodes", async () => {
      const t0 = performance.now();
      const reg = await flwr142("supernode", "register", keys[0]!.publicKeyPath, "e2e");
      figure(
        `1.42 \`flwr supernode register\` (process start to exit): ${(performance.now() - t0).toFixed(0)} ms`,
      );
      expect(reg.code, reg.output).toBe(0);
      expect(reg.output).toContain(`Using SuperLink: e2e (127.0.0.1:${ports.http})`);
      const id0 = /✅ SuperNode (\d+) registered successfully\./.exec(reg.output)?.[1];
      expect(id0, reg.output).toBeDefined();
      nodeIds[0] = id0!;

      // The second key: over gRPC Control by Python 1.29 when it is there, else by 1.42 with
      // `--format json` (node-id an int there).
      if (py129.available) {
        const r = await flwr129("supernode", "register", keys[1]!.publicKeyPath, "e2e");
        expect(r.code, r.output).toBe(0);
        nodeIds[1] = /SuperNode (\d+) registered successfully/.exec(r.output)![1]!;
      } else {
        const r = await flwr142(
          "supernode",
          "register",
          keys[1]!.publicKeyPath,
          "e2e",
          "--format",
          "json",
        );
        const json = JSON.parse(r.output.slice(r.output.indexOf("{"))) as { success: boolean };
        expect(json.success, r.output).toBe(true);
        // Read from the text: a uint64 above 2^53 does not survive JSON.parse.
        nodeIds[1] = /"node-id":\s*(\d+)/.exec(r.output)![1]!;
      }

      const [viaHttp, viaGrpc] = await Promise.all([list142(), grpcStatuses()]);
      for (const id of nodeIds) {
        expect(viaHttp[id], JSON.stringify(viaHttp)).toBe("registered");
        expect(viaGrpc[id], JSON.stringify(viaGrpc)).toBe("registered");
      }
      expect(Object.keys(viaHttp).sort()).toEqual(Object.keys(viaGrpc).sort());
      if (py129.available) expect(await list129()).toEqual(viaGrpc);

      // Either key again, from 1.42 over HTTP: Flower's duplicate error, whichever wire registered it.
      for (const key of keys.slice(0, 2)) {
        const dup = await flwr142("supernode", "register", key.publicKeyPath, "e2e");
        expect(dup.code, dup.output).toBe(1);
        expect(dup.output).toContain("[code: 23] Public key already in use.");
      }
    }, 60_000);

    test("a 1.42 SuperNode over HTTP Fleet and a 1.29 SuperNode over gRPC Fleet are online together", async () => {
      const t0 = performance.now();
      supernodes["1.42"] = supernode142(keys[0], runtimePorts[0]!);
      if (py129.available)
        supernodes["1.29"] = start(
          join(py129.binDir, "flower-supernode"),
          [
            "--root-certificates",
            ca,
            "--auth-supernode-private-key",
            keys[1]!.privateKeyPath,
            "--superlink",
            `127.0.0.1:${ports.fleet}`,
            "--clientappio-api-address",
            `127.0.0.1:${runtimePorts[1]}`,
            "--isolation",
            "process",
          ],
          { env: env129(), cwd: dir },
        );
      await Promise.all(
        Object.entries(supernodes).map(async ([version, p]) => {
          await p.waitFor(/SuperNode ID:?\s*\d+/, 45_000);
          figure(
            `${version} SuperNode: spawn → "SuperNode ID" line: ${(performance.now() - t0).toFixed(0)} ms`,
          );
        }),
      );
      const idLine = /SuperNode ID:?\s*(\d+)/.exec(stripAnsi(supernodes["1.42"].output()));
      expect(idLine?.[1]).toBe(nodeIds[0]);

      const want: Record<string, string> = { [nodeIds[0]!]: "online" };
      if (py129.available) want[nodeIds[1]!] = "online";
      await waitForGrpcStatuses(want, 10_000);
      figure(
        `spawn → both online in gRPC Control's list: ${(performance.now() - t0).toFixed(0)} ms`,
      );
      const viaHttp = await list142();
      for (const [id, status] of Object.entries(want)) expect(viaHttp[id], id).toBe(status);
      if (py129.available) {
        const viaGrpcCli = await list129();
        for (const [id, status] of Object.entries(want)) expect(viaGrpcCli[id], id).toBe(status);
      }

      // A few heartbeats' worth of pulls later the 1.42 SuperNode is still healthy (a non-200
      // answer on pull-messages would have ended its loop with an error).
      await sleep(4_000);
      const out = stripAnsi(supernodes["1.42"].output());
      expect(out).not.toMatch(/ERROR|Traceback|Exit Code/);
      expect((await grpcStatuses())[nodeIds[0]!]).toBe("online");
    }, 90_000);

    test("hostile Fleet calls over HTTP: 401 JSON; 404/405/415/400 as 1.42; /health 200; never 500", async () => {
      const privA = loadPrivateKey(keys[0]!.privateKeyPath);
      const privB = loadPrivateKey(keys[1]!.privateKeyPath);
      const stranger = generateEcKeyPair("P-384").privateKey;
      const idA = BigInt(nodeIds[0]!);
      const idB = BigInt(nodeIds[1]!);
      const heartbeat = (nodeId: bigint) =>
        M.sendNodeHeartbeat.requestType
          .encode({ node: { nodeId }, heartbeatInterval: 30 })
          .finish();
      const pull = (nodeId: bigint) =>
        M.pullMessages.requestType.encode({ node: { nodeId }, messageIds: [] }).finish();
      const post = (
        what: string,
        path: string,
        body: Uint8Array,
        headers: Record<string, string>,
      ) => call(what, "POST", path, { body, headers: { ...PROTOBUF, ...headers } });
      const now = () => Date.now() * 1000;

      // Correctly signed: passes (the baseline the refusals below differ from by one thing).
      const ok = await post(
        "signed heartbeat",
        "/v1/fleet/send-node-heartbeat",
        heartbeat(idA),
        nodeAuthHeaders({ privateKey: privA }),
      );
      expect(ok.status, ok.body.toString()).toBe(200);
      expect(ok.headers["content-type"]).toBe("application/protobuf");
      expect(M.sendNodeHeartbeat.responseType.decode(ok.body).success).toBe(true);
      const okPull = await post(
        "signed pull",
        "/v1/fleet/pull-messages",
        pull(idA),
        nodeAuthHeaders({ privateKey: privA }),
      );
      expect(okPull.status).toBe(200);
      expect(M.pullMessages.responseType.decode(okPull.body).messagesList).toEqual([]);

      // Unsigned.
      expect401(await post("unsigned", "/v1/fleet/pull-messages", pull(idA), {}), "unsigned");
      // Forged: A's key announced, signed by a stranger's key.
      expect401(
        await post(
          "forged",
          "/v1/fleet/pull-messages",
          pull(idA),
          nodeAuthHeaders({ privateKey: privA, signer: stranger }),
        ),
        "forged",
      );
      // A stranger's own, valid signature claiming A's node.
      expect401(
        await post(
          "stranger",
          "/v1/fleet/pull-messages",
          pull(idA),
          nodeAuthHeaders({ privateKey: stranger }),
        ),
        "stranger",
      );
      // Stale (400 s old, beyond 1.42's 305 s) and from the future (beyond 5 s).
      for (const [what, at] of [
        ["stale", now() - 400_000_000],
        ["future", now() + 60_000_000],
      ] as const)
        expect401(
          await post(
            what,
            "/v1/fleet/send-node-heartbeat",
            heartbeat(idA),
            nodeAuthHeaders({ privateKey: privA, atMicros: at }),
          ),
          what,
        );
      // Replayed: the same signed headers twice; the first passes, the second is refused.
      const once = nodeAuthHeaders({ privateKey: privA });
      const first = await post("replay #1", "/v1/fleet/send-node-heartbeat", heartbeat(idA), once);
      expect(first.status).toBe(200);
      expect401(
        await post("replay #2", "/v1/fleet/send-node-heartbeat", heartbeat(idA), once),
        "replayed",
      );
      // Mismatched node id: A's valid signature, B's node id (and the reverse, unknown id).
      expect401(
        await post(
          "A claims B",
          "/v1/fleet/pull-messages",
          pull(idB),
          nodeAuthHeaders({ privateKey: privA }),
        ),
        "A claims B",
      );
      expect401(
        await post(
          "B claims unknown",
          "/v1/fleet/send-node-heartbeat",
          heartbeat(12345n),
          nodeAuthHeaders({ privateKey: privB }),
        ),
        "B claims unknown",
      );
      // Activate with a body key other than the signing key (1.42's rule too).
      expect401(
        await post(
          "activate with another key",
          "/v1/fleet/activate-node",
          M.activateNode.requestType
            .encode({ publicKey: Buffer.from(keys[1]!.publicKeyPem), heartbeatInterval: 30 })
            .finish(),
          nodeAuthHeaders({ privateKey: privA }),
        ),
        "activate with another key",
      );
      // Not base64 in the key header.
      expect401(
        await post("non-base64 key", "/v1/fleet/pull-messages", pull(idA), {
          ...nodeAuthHeaders({ privateKey: privA }),
          "flwr-public-key": "not base64!",
        }),
        "non-base64 key",
      );

      // With SuperNode auth on, Fleet register/unregister are 412 2001/2002 after auth passed.
      const reg = await post(
        "fleet register",
        "/v1/fleet/register-node",
        M.registerNode.requestType
          .encode({ publicKey: Buffer.from(keys[2]!.publicKeyPem) })
          .finish(),
        nodeAuthHeaders({ privateKey: loadPrivateKey(keys[2]!.privateKeyPath) }),
      );
      expect([reg.status, (reg.json as { code?: number }).code]).toEqual([412, 2001]);
      const unreg = await post(
        "fleet unregister",
        "/v1/fleet/unregister-node",
        M.unregisterNode.requestType.encode({ nodeId: idA }).finish(),
        nodeAuthHeaders({ privateKey: privA }),
      );
      expect([unreg.status, (unreg.json as { code?: number }).code]).toEqual([412, 2002]);

      // Routing and decoding, exactly as 1.42 answers (notes §0).
      const unknown = await call("unknown route", "POST", "/v1/fleet/nope", {
        body: pull(idA),
        headers: PROTOBUF,
      });
      expect([unknown.status, unknown.json]).toEqual([404, { detail: "Not Found" }]);
      const unknownControl = await call("unknown control route", "POST", "/v1/control/nope", {
        headers: PROTOBUF,
      });
      expect([unknownControl.status, unknownControl.json]).toEqual([404, { detail: "Not Found" }]);
      const get = await call("GET on a route", "GET", "/v1/fleet/pull-messages");
      expect([get.status, get.json]).toEqual([405, { detail: "Method Not Allowed" }]);
      for (const contentType of ["application/json", undefined]) {
        const wrong = await call(`content-type ${contentType}`, "POST", "/v1/fleet/pull-messages", {
          body: Buffer.from("{}"),
          headers: {
            ...(contentType ? { "content-type": contentType } : {}),
            ...nodeAuthHeaders({ privateKey: privA }),
          },
        });
        // flwr-ts adds the content type it got as `extra`; 1.42's clients read code and detail.
        expect(wrong.status).toBe(415);
        expect(wrong.json).toMatchObject({ code: 1002, detail: "Unsupported Content-Type." });
      }
      const wrongControl = await call("control json", "POST", "/v1/control/list-nodes", {
        body: Buffer.from("{}"),
        headers: { "content-type": "application/json" },
      });
      expect([wrongControl.status, (wrongControl.json as { code?: number }).code]).toEqual([
        415, 1002,
      ]);
      // A truncated length-delimited field; parameters after ";" are ignored.
      const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]);
      for (const path of ["/v1/fleet/pull-messages", "/v1/control/list-nodes"]) {
        const bad = await call(`garbage ${path}`, "POST", path, {
          body: garbage,
          headers: {
            "content-type": "Application/Protobuf; charset=binary",
            ...nodeAuthHeaders({ privateKey: privA }),
          },
        });
        expect(bad.status, `${path}: ${bad.body.toString()}`).toBe(400);
        expect((bad.json as { code?: number }).code).toBe(1003);
        expect((bad.json as { detail?: string }).detail).toBe("Invalid protobuf payload.");
      }
      const health = await call("health", "GET", "/health");
      expect(health.status).toBe(200);
      expect(health.body.length).toBe(0);
      expect((await call("health HEAD", "HEAD", "/health")).status).toBe(200);

      // An unsigned, empty Control list-nodes is fine without account auth (1.42's noop plugin).
      const listed = await call("control list-nodes", "POST", "/v1/control/list-nodes", {
        headers: PROTOBUF,
      });
      expect(listed.status).toBe(200);
      const ids = ControlDefinition.methods.listNodes.responseType
        .decode(listed.body)
        .nodesInfo.map((n) => n.nodeId.toString());
      expect(ids).toEqual(expect.arrayContaining(nodeIds));

      // Control errors carry 1.42's codes: an unknown run is 404 {16} on list-runs and stop-run.
      const C = ControlDefinition.methods;
      for (const [path, body] of [
        ["/v1/control/list-runs", C.listRuns.requestType.encode({ runId: 4242n }).finish()],
        ["/v1/control/stop-run", C.stopRun.requestType.encode({ runId: 4242n }).finish()],
      ] as const) {
        const a = await call(path, "POST", path, { body, headers: PROTOBUF });
        expect([a.status, a.json]).toEqual([404, { code: 16, detail: "Run ID not found." }]);
      }

      expect(answers.filter((a) => a.status >= 500)).toEqual([]);
      // None of this disturbed the real 1.42 SuperNode.
      expect((await grpcStatuses())[nodeIds[0]!]).toBe("online");
      expect(superlink.output()).not.toMatch(/Unexpected error|Internal server error/);
    }, 60_000);

    test("SIGTERM takes each SuperNode offline at once", async () => {
      for (const [version, p] of Object.entries(supernodes)) {
        const id = version === "1.42" ? nodeIds[0]! : nodeIds[1]!;
        const t0 = performance.now();
        const code = await p.stop("SIGTERM", 15_000);
        const stopMs = performance.now() - t0;
        expect(code, p.output()).toBe(0);
        expect(stripAnsi(p.output())).toContain("SuperNode terminated gracefully.");
        // Deactivated before exit: offline without waiting for a heartbeat timeout.
        expect((await grpcStatuses())[id], `${version}: ${p.output()}`).toBe("offline");
        figure(`${version} SuperNode: SIGTERM → exited (and offline): ${stopMs.toFixed(0)} ms`);
      }
      const viaHttp = await list142();
      expect(viaHttp[nodeIds[0]!]).toBe("offline");
      if (py129.available) expect(viaHttp[nodeIds[1]!]).toBe("offline");
    }, 60_000);

    test("1.42 SuperNodes the SuperLink refuses exit with Flower's codes", async () => {
      // No key: it tries Fleet register, which SuperNode auth disables (412 {2001}).
      const anonymous = supernode142(undefined, runtimePorts[2]!);
      expect(await anonymous.exited()).toBe(1);
      const out = stripAnsi(anonymous.output());
      expect(out).toContain("Failed to initialize the connection to the SuperLink.");
      expect(out).toContain("[code: 2001] SuperNode authentication is enabled.");
      // A key nobody registered: activate fails (412 {2004}).
      const unknownKey = supernode142(keys[2], runtimePorts[2]!);
      expect(await unknownKey.exited()).toBe(1);
      expect(stripAnsi(unknownKey.output())).toContain(
        "[code: 2004] Failed to activate SuperNode.",
      );
    }, 60_000);

    test("1.42 `flwr supernode unregister` over HTTP Control", async () => {
      // A live 1.42 SuperNode whose node is unregistered gets 401 on its next call and exits
      // gracefully (notes §C).
      const reg = await flwr142("supernode", "register", keys[2]!.publicKeyPath, "e2e");
      const id2 = /✅ SuperNode (\d+) registered successfully\./.exec(reg.output)?.[1];
      expect(id2, reg.output).toBeDefined();
      const live = supernode142(keys[2], runtimePorts[2]!);
      supernodes["1.42 (unregistered while online)"] = live;
      await live.waitFor(/SuperNode ID:?\s*\d+/, 45_000);
      expect((await grpcStatuses())[id2!]).toBe("online");
      const r2 = await flwr142("supernode", "unregister", id2!, "e2e");
      expect(r2.code, r2.output).toBe(0);
      const t0 = performance.now();
      expect(await live.exited(), live.output()).toBe(0);
      figure(
        `1.42 SuperNode: unregistered while online → exited: ${(performance.now() - t0).toFixed(0)} ms`,
      );
      expect(stripAnsi(live.output())).toContain("SuperNode terminated gracefully.");
      expect((await grpcStatuses())[id2!]).toBe("unregistered");

      for (const id of nodeIds) {
        const r = await flwr142("supernode", "unregister", id, "e2e");
        expect(r.code, r.output).toBe(0);
        expect(r.output).toContain(`✅ SuperNode ${id} unregistered successfully.`);
      }
      const viaGrpc = await grpcStatuses();
      for (const id of nodeIds) expect(viaGrpc[id]).toBe("unregistered");
      // JSON mode lists unregistered nodes (notes §D).
      const viaHttp = await list142();
      for (const id of nodeIds) expect(viaHttp[id]).toBe("unregistered");

      const again = await flwr142("supernode", "unregister", nodeIds[0]!, "e2e");
      expect(again.code).toBe(1);
      expect(again.output).toContain("[code: 24] Node ID not found for account.");
      // An unregistered key's SuperNode can no longer come online…
      const gone = supernode142(keys[0], runtimePorts[0]!);
      expect(await gone.exited()).toBe(1);
      expect(stripAnsi(gone.output())).toContain("[code: 2004] Failed to activate SuperNode.");
      // …but flwr-ts lets 1.42's CLI register the key again (Flower answers "[code: 23] Public
      // key already in use." forever): a new node supersedes the old row (issue #13, item 6).
      const back = await flwr142("supernode", "register", keys[0]!.publicKeyPath, "e2e");
      const newId = /✅ SuperNode (\d+) registered successfully\./.exec(back.output)?.[1];
      expect(newId, back.output).toBeDefined();
      expect(newId).not.toBe(nodeIds[0]);
      const afterReRegister = await grpcStatuses();
      expect(afterReRegister[newId!]).toBe("registered");
      expect(afterReRegister[nodeIds[0]!]).toBeUndefined();
      // A registered node's key is still refused.
      const dup = await flwr142("supernode", "register", keys[0]!.publicKeyPath, "e2e");
      expect(dup.output).toContain("[code: 23] Public key already in use.");
      expect(superlink.output()).not.toMatch(/Unexpected error/);
    }, 60_000);
  },
);
