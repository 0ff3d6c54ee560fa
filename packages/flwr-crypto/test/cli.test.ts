import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../src/index.js";
import { run, tempDir } from "./helpers.js";

const dir = tempDir();

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("flwr-ts CLI", () => {
  it("gen-keys 3 writes three pairs and prints them", async () => {
    const r = await cli(["gen-keys", "3", "--out", join(dir, "keys")]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("Wrote 3 SuperNode key pairs (ECDSA P-384):");
    for (const n of [1, 2, 3]) {
      const p = join(dir, "keys", `client_credentials_${n}`);
      expect(r.out).toContain(p);
      expect(run("ssh-keygen", ["-y", "-f", p]).trim()).toBe(
        readFileSync(`${p}.pub`, "utf8").trim(),
      );
    }
    const again = await cli(["gen-keys", "--out", join(dir, "keys")]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^flwr-ts: refusing to overwrite .*client_credentials_1.*--force/);
    expect((await cli(["gen-keys", "--out", join(dir, "keys"), "--force"])).code).toBe(0);
  });

  it("gen-certs writes the four files for the given hosts", async () => {
    const out = join(dir, "certs");
    const r = await cli([
      "gen-certs",
      "--out",
      out,
      "--host",
      "localhost",
      "--host",
      "10.1.2.3",
      "--days",
      "7",
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("Wrote ec-p384 certificates for localhost, 10.1.2.3:");
    for (const f of ["ca.crt", "ca.key", "server.pem", "server.key"])
      expect(existsSync(join(out, f))).toBe(true);
    expect(
      run("openssl", ["verify", "-CAfile", join(out, "ca.crt"), join(out, "server.pem")]),
    ).toContain("OK");
    expect(
      run("openssl", ["x509", "-in", join(out, "server.pem"), "-noout", "-ext", "subjectAltName"]),
    ).toContain("DNS:localhost, IP Address:10.1.2.3");
  });

  it.each([
    [[], /missing command/],
    [["frobnicate"], /unknown command "frobnicate"\. /],
    [["gen-key"], /unknown command "gen-key"; did you mean "gen-keys"\?/],
    [["gen-keys", "zero"], /N must be a positive integer, got "zero"/],
    [["gen-keys", "0"], /N must be a positive integer, got "0"/],
    [["gen-keys", "1", "2"], /at most one count/],
    [["gen-keys", "--bogus"], /Unknown option '--bogus'/],
    [["gen-certs", "--key-type", "dsa"], /--key-type must be ec-p384 or rsa-4096, got "dsa"/],
    [["gen-certs", "--days", "-1"], /--days/],
    [
      ["gen-certs", "--host", "not a host"],
      /"not a host" is neither an IP address nor a valid DNS name/,
    ],
    [["gen-certs", "extra"], /takes no positional arguments/],
  ])("usage error %j exits 2 with a clear message", async (args, re) => {
    const r = await cli([
      ...args,
      ...(args[0] === "gen-certs" ? ["--out", join(dir, "never")] : []),
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(re);
    // One line ending with a pointer to the help, not the whole usage.
    expect(r.err.split("\n")).toHaveLength(1);
    expect(r.err).toMatch(/ Run 'flwr-ts (gen-(keys|certs) )?--help' for usage\.$/);
    expect(existsSync(join(dir, "never"))).toBe(false);
  });

  it.each([
    ["gen-keys", "Usage: flwr-ts gen-keys [N]", "gen-certs"],
    ["gen-certs", "Usage: flwr-ts gen-certs [--out DIR]", "gen-keys"],
  ])("%s --help prints that command's usage and exits 0", async (command, wanted, other) => {
    for (const flag of ["--help", "-h"]) {
      const r = await cli([command, "--out", join(dir, "never"), flag]);
      expect(r.code).toBe(0);
      expect(r.out).toContain(wanted);
      expect(r.out).not.toContain(`flwr-ts ${other}`);
      expect(existsSync(join(dir, "never"))).toBe(false);
    }
  });

  it("an unknown flag suggests the closest one; the help is coloured only when asked", async () => {
    const typo = await cli(["gen-keys", "--forc"]);
    expect(typo.code).toBe(2);
    expect(typo.err).toBe(
      `flwr-ts: Unknown option '--forc'; did you mean "--force"? Run 'flwr-ts gen-keys --help' for usage.`,
    );
    const plain: string[] = [];
    await runCli(["gen-keys", "--help"], {
      out: (l) => plain.push(l),
      err: () => {},
      color: false,
    });
    expect(plain.join("\n")).not.toContain("\u001b[");
    const coloured: string[] = [];
    await runCli(["gen-keys", "--help"], {
      out: (l) => coloured.push(l),
      err: () => {},
      color: true,
    });
    expect(coloured.join("\n")).toContain("\u001b[1;36m--prefix");
    const entry = join(import.meta.dirname, "../src/cli.ts");
    const env = { ...process.env, FORCE_COLOR: "1" } as Record<string, string | undefined>;
    delete env["NO_COLOR"];
    const forced = spawnSync("npx", ["tsx", entry, "--help"], { encoding: "utf8", env });
    expect(forced.stdout).toContain("\u001b[");
    delete env["FORCE_COLOR"];
    const piped = spawnSync("npx", ["tsx", entry, "--help"], { encoding: "utf8", env });
    expect(piped.stdout).toContain("Usage: flwr-ts");
    expect(piped.stdout).not.toContain("\u001b[");
  });

  it("help prints the usage", async () => {
    const r = await cli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("Usage: flwr-ts [OPTIONS] COMMAND");
    expect(r.out).toMatch(/│ gen-certs +Write a development CA/);
    expect(r.out).toMatch(/│ gen-keys +Write SuperNode key pairs/);
  });

  it("runs as an executable with a shebang (src/cli.ts via tsx)", () => {
    const entry = join(import.meta.dirname, "../src/cli.ts");
    expect(readFileSync(entry, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    const ok = execFileSync("npx", ["tsx", entry, "gen-keys", "1", "--out", join(dir, "exe")], {
      encoding: "utf8",
    });
    expect(ok).toContain("client_credentials_1");
    const bad = spawnSync("npx", ["tsx", entry, "gen-keys", "x"], { encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('flwr-ts: N must be a positive integer, got "x"');
  });
});
