/**
 * `flwr` over both Control wires, in-process against one flwr-ts SuperLink (TLS, SuperNode
 * auth) that serves gRPC Control and the HTTP API: the same results over gRPC, over
 * `https://` federations, `"transport": "http"` and Flower 1.42's `$FLWR_HOME/config.toml`
 * connections; every wrong guess is one line naming the fix, fast.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateAuthKeys } from "@flwr-ts/crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { flwr } from "../../../test/flwr-in-process.js";
import { startTestSuperLink, type TestSuperLink } from "../../../test/superlink-test-kit.js";
import { loadTarget } from "../control-target.js";

let link: TestSuperLink;
let appDir: string;
let home: string;
let keys: ReturnType<typeof generateAuthKeys>;
let grpcPort: number;
let httpPort: number;
const savedHome = process.env["FLWR_HOME"];
const savedCwd = process.cwd();

beforeAll(async () => {
  link = await startTestSuperLink({ tls: true, enableSupernodeAuth: true });
  grpcPort = link.superlink.ports.controlPort;
  httpPort = link.httpPort;
  appDir = join(link.dir, "app");
  mkdirSync(appDir);
  const ca = link.caCertPath!;
  writeFileSync(
    join(appDir, "package.json"),
    JSON.stringify({
      flwr: {
        federations: {
          default: "grpc",
          grpc: { address: `127.0.0.1:${grpcPort}`, "root-certificates": ca },
          http: { address: `https://127.0.0.1:${httpPort}`, "root-certificates": ca },
          "http-key": {
            address: `127.0.0.1:${httpPort}`,
            transport: "http",
            "root-certificates": ca,
          },
          // wrong guesses
          "grpc-on-http": { address: `127.0.0.1:${httpPort}`, "root-certificates": ca },
          "http-on-grpc": { address: `https://127.0.0.1:${grpcPort}`, "root-certificates": ca },
          "plain-http-on-tls": { address: `http://127.0.0.1:${httpPort}` },
          "plain-grpc-on-tls": { address: `127.0.0.1:${grpcPort}`, insecure: true },
          "http-down": { address: "http://127.0.0.1:1" },
          "bad-transport": { address: `127.0.0.1:${httpPort}`, transport: "h2" },
        },
      },
    }),
  );
  home = join(link.dir, "flwr-home");
  mkdirSync(home);
  writeFileSync(
    join(home, "config.toml"),
    [
      "[superlink]",
      'default = "conn"',
      "[superlink.conn]",
      `address = "127.0.0.1:${httpPort}"`,
      `root-certificates = "${ca}"`,
      "[superlink.old]",
      `address = "127.0.0.1:${grpcPort}"`,
      'transport = "grpc"',
      `root-certificates = "${ca}"`,
      "[superlink.conn-plain]",
      `address = "127.0.0.1:${httpPort}"`,
      "insecure = true",
      "[superlink.conn-on-grpc]",
      `address = "127.0.0.1:${grpcPort}"`,
      `root-certificates = "${ca}"`,
      "",
    ].join("\n"),
  );
  process.env["FLWR_HOME"] = home;
  keys = generateAuthKeys({ outDir: join(link.dir, "keys"), count: 3 });
}, 60_000);

afterAll(async () => {
  process.chdir(savedCwd);
  if (savedHome === undefined) delete process.env["FLWR_HOME"];
  else process.env["FLWR_HOME"] = savedHome;
  await link.stop();
});

const listJson = async (...target: string[]) => {
  const r = await flwr("supernode", "list", ...target, "--format", "json");
  expect(r.status, r.out + r.err).toBe(0);
  return JSON.parse(r.out) as { success: boolean; nodes: { "node-id": string; status: string }[] };
};

describe("flwr over gRPC and HTTP Control", () => {
  const ids: string[] = [];

  test("register over HTTP (https:// federation, transport key, config.toml connection)", async () => {
    const viaUrl = await flwr("supernode", "register", keys[0]!.publicKeyPath, appDir, "http");
    expect(viaUrl.err).toBe("");
    expect(viaUrl.out).toMatch(
      /^Loading project configuration\.\.\. \nSuccess\n✅ SuperNode (\d+) registered successfully\.\n$/,
    );
    ids.push(/SuperNode (\d+)/.exec(viaUrl.out)![1]!);

    const viaKey = await flwr(
      "supernode",
      "register",
      keys[1]!.publicKeyPath,
      appDir,
      "http-key",
      "--format",
      "json",
    );
    expect(viaKey.status).toBe(0);
    const doc = JSON.parse(viaKey.out) as { success: boolean; "node-id": number };
    expect(doc.success).toBe(true);
    ids.push(/"node-id": (\d+)/.exec(viaKey.out)![1]!);

    // Flower 1.42's form: <public-key> <connection>.
    const viaConn = await flwr("supernode", "register", keys[2]!.publicKeyPath, "conn");
    expect(viaConn.err).toBe("");
    expect(viaConn.out).toMatch(
      new RegExp(
        `^Using SuperLink: conn \\(https://127\\.0\\.0\\.1:${httpPort}\\)\\n✅ SuperNode (\\d+) registered successfully\\.\\n$`,
      ),
    );
    ids.push(/SuperNode (\d+)/.exec(viaConn.out)![1]!);
  });

  test("list shows the same nodes over every wire and form", async () => {
    const overGrpc = await listJson(appDir, "grpc");
    expect(overGrpc.nodes.map((n) => n["node-id"]).sort()).toEqual([...ids].sort());
    expect(await listJson(appDir, "http")).toEqual(overGrpc);
    expect(await listJson(appDir, "http-key")).toEqual(overGrpc);
    expect(await listJson("conn")).toEqual(overGrpc);
    expect(await listJson("old")).toEqual(overGrpc);
    const tableGrpc = await flwr("supernode", "list", appDir);
    const tableHttp = await flwr("supernode", "list", appDir, "http");
    expect(tableHttp.out).toBe(tableGrpc.out);
    for (const id of ids)
      expect(tableHttp.out).toMatch(new RegExp(`│ ${id}\\s+│ none\\s+│ registered │`));
  });

  test("duplicate key, unknown node and unregister: the same lines over both wires", async () => {
    for (const fed of ["grpc", "http"]) {
      const dup = await flwr("supernode", "register", keys[0]!.publicKeyPath, appDir, fed);
      expect(dup.status, fed).toBe(1);
      expect(dup.err, fed).toBe(
        "❌ The provided public key is already in use by another SuperNode.\n",
      );
      const unknown = await flwr("supernode", "unregister", "42", appDir, fed);
      expect(unknown.status, fed).toBe(1);
      expect(unknown.err, fed).toBe("❌ Node ID not found for this account.\n");
    }
    const un = await flwr("supernode", "unregister", ids[2]!, "conn", "--format", "json");
    expect(un.out).toBe(`{\n  "success": true,\n  "node-id": ${ids[2]}\n}\n`);
    const un2 = await flwr("supernode", "unregister", ids[1]!, appDir, "http");
    expect(un2.out).toMatch(/✅ SuperNode \d+ unregistered successfully\.\n$/);
    const statuses = (await listJson(appDir, "http")).nodes
      .map((n) => `${n["node-id"]}:${n.status}`)
      .sort();
    expect(statuses).toEqual(
      [`${ids[0]}:registered`, `${ids[1]}:unregistered`, `${ids[2]}:unregistered`].sort(),
    );
    expect((await flwr("supernode", "list", "conn")).out).not.toContain(ids[1]!);
  });

  test("ls, log and stop: the same answers over both wires", async () => {
    // The test kit's SuperLink has no run support: both wires must report that the same way
    // (e2e/cli-http-control.test.ts runs them against SuperLinks with runs).
    const strip = (text: string) => text.replace(/(https:\/\/)?127\.0\.0\.1:\d+/g, "<addr>");
    for (const argv of [["ls"], ["log", "77"], ["stop", "77"]]) {
      const [cmd, ...rest] = argv as [string, ...string[]];
      const overGrpc = await flwr(cmd, ...rest, appDir, "grpc");
      const overHttp = await flwr(cmd, ...rest, appDir, "http");
      const overConn = await flwr(cmd, ...rest, "conn", ...(cmd === "log" ? ["--show"] : []));
      expect(overHttp.status, argv.join(" ")).toBe(overGrpc.status);
      expect(strip(overHttp.err), argv.join(" ")).toBe(strip(overGrpc.err));
      expect(strip(overHttp.out), argv.join(" ")).toBe(strip(overGrpc.out));
      expect(overConn.status, argv.join(" ")).toBe(overGrpc.status);
    }
  });

  test("a wrong guess is one line naming the fix, at once", async () => {
    const cases: [string[], RegExp][] = [
      [
        ["supernode", "list", appDir, "grpc-on-http"],
        /speaks Flower's HTTP Control API .*not gRPC: set "address": "https:\/\/127\.0\.0\.1:\d+" \(or add "transport": "http"\) in federation 'grpc-on-http' in .*package\.json\.$/,
      ],
      [
        ["supernode", "list", appDir, "http-on-grpc"],
        /speaks gRPC Control .*not HTTP: set "address": "127\.0\.0\.1:\d+" \(host:port, no scheme/,
      ],
      [
        ["supernode", "list", "conn-on-grpc"],
        /speaks gRPC Control .*not HTTP: add transport = "grpc" to SuperLink connection 'conn-on-grpc' in .*config\.toml/,
      ],
      [
        ["supernode", "list", appDir, "plain-http-on-tls"],
        /uses TLS, but federation 'plain-http-on-tls' .* sets no TLS: use "https:\/\/127\.0\.0\.1:\d+" as the address and set "root-certificates"\.$/,
      ],
      [
        ["supernode", "list", appDir, "plain-grpc-on-tls"],
        /uses TLS, but federation 'plain-grpc-on-tls' .* sets no TLS: remove "insecure": true/,
      ],
      [
        ["supernode", "list", "conn-plain"],
        /uses TLS, but SuperLink connection 'conn-plain' .* sets no TLS: remove insecure = true and set "root-certificates"\.$/,
      ],
      [
        ["supernode", "list", appDir, "http-down"],
        /^❌ Cannot connect to the SuperLink at http:\/\/127\.0\.0\.1:1 \(connect ECONNREFUSED/,
      ],
      [
        ["supernode", "list", appDir, "bad-transport"],
        /^❌ Federation 'bad-transport': 'transport' must be "grpc" or "http"/,
      ],
      [
        ["supernode", "list", "nope"],
        /^❌ SuperLink connection 'nope' is not defined in .*config\.toml; defined: 'conn', 'old', 'conn-plain', 'conn-on-grpc'/,
      ],
    ];
    for (const [argv, pattern] of cases) {
      const t0 = performance.now();
      const r = await flwr(...argv);
      const ms = performance.now() - t0;
      expect(r.status, argv.join(" ")).toBe(1);
      expect(r.err.trimEnd().split("\n"), argv.join(" ")).toHaveLength(1);
      expect(r.err.trimEnd(), argv.join(" ")).toMatch(pattern);
      expect(ms, argv.join(" ")).toBeLessThan(5000);
    }
  });

  test("which form the positionals pick", () => {
    expect(loadTarget(appDir, "http")).toMatchObject({ source: "package.json", transport: "http" });
    expect(loadTarget(appDir)).toMatchObject({ source: "package.json", name: "grpc" });
    expect(loadTarget("conn")).toMatchObject({ source: "config.toml", transport: "http" });
    expect(() => loadTarget("./missing")).toThrow(/App directory '\.\/missing' does not exist/);
    process.chdir(link.dir); // no package.json here: the default connection
    try {
      expect(loadTarget()).toMatchObject({ source: "config.toml", name: "conn" });
      process.chdir(appDir);
      expect(loadTarget()).toMatchObject({ source: "package.json", name: "grpc" });
    } finally {
      process.chdir(savedCwd);
    }
  });

  test("help names both forms and the wire rules", async () => {
    const help = await flwr("supernode", "register", "--help");
    expect(help.out).toMatch(/flwr supernode register PUBLIC-KEY \[CONNECTION\]/);
    const text = help.out.replace(/\s+/g, " ");
    expect(text).toContain("https://host:port");
    expect(text).toContain('transport = "grpc"');
  });
});
