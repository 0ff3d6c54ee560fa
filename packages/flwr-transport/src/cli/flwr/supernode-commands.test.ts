/**
 * `flwr supernode register | list | unregister` in-process against a flwr-ts SuperLink over TLS,
 * with the federation read from an app's package.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateAuthKeys } from "@flwr-ts/crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { flwr } from "../../../test/flwr-in-process.js";
import { startTestSuperLink, type TestSuperLink } from "../../../test/superlink-test-kit.js";

let link: TestSuperLink;
let appDir: string;
let keys: ReturnType<typeof generateAuthKeys>;

beforeAll(async () => {
  link = await startTestSuperLink({ tls: true, enableSupernodeAuth: true });
  appDir = join(link.dir, "app");
  mkdirSync(appDir);
  writeFileSync(
    join(appDir, "package.json"),
    JSON.stringify({
      flwr: {
        federations: {
          default: "local",
          local: {
            address: `127.0.0.1:${link.superlink.ports.controlPort}`,
            "root-certificates": link.caCertPath,
          },
          down: { address: "127.0.0.1:1", insecure: true },
        },
      },
    }),
  );
  keys = generateAuthKeys({ outDir: join(link.dir, "keys"), count: 2 });
}, 60_000);
afterAll(async () => {
  await link.stop();
});

describe("flwr supernode against a flwr-ts SuperLink", () => {
  const ids: string[] = [];

  test("register prints the seed's lines and the node id", async () => {
    for (const key of keys) {
      const r = await flwr("supernode", "register", key.publicKeyPath, appDir, "local");
      expect(r.err).toBe("");
      expect(r.status).toBe(0);
      const m =
        /^Loading project configuration\.\.\. \nSuccess\n✅ SuperNode (\d+) registered successfully\.\n$/.exec(
          r.out,
        );
      expect(m).not.toBeNull();
      ids.push(m![1]!);
    }
    const json = await flwr(
      "supernode",
      "register",
      keys[0]!.publicKeyPath,
      appDir,
      "--format",
      "json",
    );
    expect(json.status).toBe(1);
    expect(JSON.parse(json.out)).toEqual({
      success: false,
      "error-message": "The provided public key is already in use by another SuperNode.",
    });
  });

  test("list shows both registered; unregister hides one unless --verbose", async () => {
    const table = await flwr("supernode", "list", appDir);
    expect(table.status).toBe(0);
    for (const id of ids)
      expect(table.out).toMatch(new RegExp(`│ ${id}\\s+│ none\\s+│ registered │`));

    const un = await flwr("supernode", "unregister", ids[1]!, appDir, "--format", "json");
    expect(un.status).toBe(0);
    expect(un.out).toBe(`{\n  "success": true,\n  "node-id": ${ids[1]}\n}\n`);

    const plain = await flwr("supernode", "ls", appDir, "local");
    expect(plain.out).not.toContain(ids[1]!);
    const verbose = await flwr("supernode", "list", appDir, "--verbose");
    expect(verbose.out).toMatch(
      new RegExp(`│ ${ids[1]}\\s+│ none\\s+│ unregistered │\\s+│ \\d{4}-`),
    );
    const json = JSON.parse((await flwr("supernode", "list", appDir, "--format", "json")).out);
    expect(json.nodes.map((n: { status: string }) => n.status).sort()).toEqual([
      "registered",
      "unregistered",
    ]);
  });

  test("errors are one line with a non-zero status", async () => {
    const cases: [string[], RegExp, number][] = [
      [
        ["supernode", "list", appDir, "down"],
        /^❌ Cannot connect to the SuperLink at 127\.0\.0\.1:1 /,
        1,
      ],
      [["supernode", "list", appDir, "nope"], /^❌ Federation 'nope' is not defined/, 1],
      [
        ["supernode", "list", join(appDir, "missing")],
        /^❌ App directory '.*' does not exist\.$/,
        1,
      ],
      [["supernode", "unregister", "12x", appDir], /^❌ Invalid node ID '12x'/, 2],
      [["supernode", "unregister", "42", appDir], /^❌ /, 1],
      [
        ["supernode", "register", keys[0]!.privateKeyPath, appDir],
        /holds a private key.*\(Exit Code: 500\)$/,
        1,
      ],
      [
        ["supernode", "register"],
        /^❌ Missing argument 'public-key' \(see 'flwr supernode register --help'\)\.$/,
        2,
      ],
      [
        ["supernode", "list", "--bogus"],
        /^❌ Unknown option '--bogus' \(see 'flwr supernode list --help'\)\.$/,
        2,
      ],
      [["supernode", "frobnicate"], /^❌ Unknown command 'frobnicate'/, 2],
      [
        ["supernode", "regster"],
        /^❌ Unknown command 'regster' for 'flwr supernode'; did you mean 'register'\?/,
        2,
      ],
      [["nope"], /^❌ Unknown command 'nope' for 'flwr'/, 2],
    ];
    for (const [argv, pattern, status] of cases) {
      const r = await flwr(...argv);
      expect(r.status, argv.join(" ")).toBe(status);
      expect(r.err.trimEnd().split("\n"), argv.join(" ")).toHaveLength(1);
      expect(r.err.trimEnd(), argv.join(" ")).toMatch(pattern);
    }
  });

  test("help for the program, the group and a command", async () => {
    const top = await flwr("--help");
    expect(top.status).toBe(0);
    expect(top.out).toMatch(/^\n Usage: flwr \[OPTIONS\] COMMAND \[ARGS\]\.\.\./);
    expect(top.out).toContain("supernode");
    expect((await flwr("supernode", "--help")).out).toMatch(/register[\s\S]*list[\s\S]*unregister/);
    expect((await flwr("supernode", "list", "--help")).out).toMatch(
      /^\n Usage: flwr supernode list/,
    );
  });
});
