/** Shared helpers for @flwr-ts/crypto tests: temporary directories and external tools. */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

/** Creates a temporary directory removed after the test file. */
export function tempDir(prefix = "flwr-crypto-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs a command and returns stdout; throws with stderr on a non-zero exit. */
export function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"] });
}

/** Runs a command and returns exit status and both outputs without throwing. */
export function runStatus(
  cmd: string,
  args: string[],
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Generates a key with ssh-keygen (no passphrase unless given, empty comment). */
export function sshKeygen(
  path: string,
  type: "ecdsa" | "rsa" | "ed25519",
  bits?: number,
  passphrase = "",
): void {
  const args = ["-q", "-t", type, "-N", passphrase, "-C", "", "-f", path];
  if (bits !== undefined) args.splice(3, 0, "-b", String(bits));
  run("ssh-keygen", args);
}

/** Awaits a promise that must reject and returns the rejection (fails the test if it resolves). */
export async function rejection<E = Error>(p: Promise<unknown>): Promise<E> {
  try {
    await p;
  } catch (e) {
    return e as E;
  }
  throw new Error("expected the promise to reject");
}

/** Calls a function that must throw and returns the error (fails the test if it returns). */
export function thrown<E = Error>(f: () => unknown): E {
  try {
    f();
  } catch (e) {
    return e as E;
  }
  throw new Error("expected the call to throw");
}
