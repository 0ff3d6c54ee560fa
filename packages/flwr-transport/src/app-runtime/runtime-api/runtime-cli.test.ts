/**
 * The task token of a Runtime API app process (`--token` or 1.42's `--token-file`): trimmed,
 * never empty, never both, a missing file named — each a one-line usage error.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { UsageError } from "../../cli/cli-error.js";
import { taskTokenOf } from "./runtime-cli.js";

const dir = mkdtempSync(join(tmpdir(), "flwr-token-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("taskTokenOf", () => {
  it("takes --token or the trimmed contents of --token-file", () => {
    expect(taskTokenOf({ token: " abc \n" })).toBe("abc");
    const file = join(dir, "token");
    writeFileSync(file, "0123abcd\n");
    expect(taskTokenOf({ "token-file": file })).toBe("0123abcd");
  });

  it("refuses a missing, empty or doubled token with Flower's messages", () => {
    const empty = join(dir, "empty");
    writeFileSync(empty, " \n");
    const cases: [Record<string, string>, RegExp][] = [
      [{}, /--token or --token-file is required/],
      [{ token: "  " }, /`--token` does not contain a token/],
      [{ "token-file": join(dir, "nope") }, /`--token-file` does not point to a file/],
      [{ "token-file": dir }, /`--token-file` does not point to a file/],
      [{ "token-file": empty }, /`--token-file` does not contain a token/],
      [{ token: "a", "token-file": empty }, /cannot be used together/],
    ];
    for (const [values, message] of cases) {
      expect(() => taskTokenOf(values)).toThrow(UsageError);
      expect(() => taskTokenOf(values)).toThrow(message);
    }
  });
});
