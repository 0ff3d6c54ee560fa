import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, test } from "vitest";

const here = import.meta.dirname;

function runBin(file: string, args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", join(here, file), ...args], {
    encoding: "utf8",
  });
}

describe("--help of the app-process commands", () => {
  test.each([
    ["flower-superexec.ts", "Usage: flower-superexec"],
    ["flwr-serverapp.ts", "Usage: flwr-serverapp"],
    ["flwr-clientapp.ts", "Usage: flwr-clientapp"],
  ])("%s prints its usage and exits 0; an unknown flag exits 2", (file, usage) => {
    expect(
      execFileSync(process.execPath, ["--import", "tsx", join(here, file), "--help"], {
        encoding: "utf8",
      }),
    ).toContain(usage);
    const bad = runBin(file, ["--bogus"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("Unknown option '--bogus'");
  });
});
