import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const traceModule = join(import.meta.dirname, "trace.ts");

/** Runs a tiny script that records two events, with `FLWR_TS_TRACE` set to `setting`. */
function runTraced(setting: string | undefined): { stderr: string } {
  const script = `
    const { trace, traceNow, traceSpan, TRACE_ENABLED } = await import(${JSON.stringify(traceModule)});
    const t0 = traceNow();
    trace("hello", { id: "abc", n: 3, big: 5n, skipped: undefined });
    traceSpan("work", t0, { ok: true });
    process.stdout.write(String(TRACE_ENABLED));
  `;
  const env = { ...process.env };
  delete env["FLWR_TS_TRACE"];
  if (setting !== undefined) env["FLWR_TS_TRACE"] = setting;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    env,
    encoding: "utf8",
  });
  expect(r.status, r.stderr).toBe(0);
  return { stderr: r.stderr };
}

describe("trace", () => {
  it("appends one JSON line per event to the file FLWR_TS_TRACE names", () => {
    const file = join(mkdtempSync(join(tmpdir(), "flwr-ts-trace-test-")), "t.jsonl");
    runTraced(file);
    const lines = readFileSync(file, "utf8").trim().split("\n");
    expect(lines).toHaveLength(2);
    const [hello, work] = lines.map((l) => JSON.parse(l));
    expect(hello).toMatchObject({ e: "hello", id: "abc", n: 3, big: "5" });
    expect(hello).not.toHaveProperty("skipped");
    expect(hello.d).toBeUndefined();
    expect(typeof hello.pid).toBe("number");
    expect(work).toMatchObject({ e: "work", ok: true });
    expect(work.d).toBeGreaterThanOrEqual(0);
    expect(work.t).toBeLessThanOrEqual(hello.t);
    expect(Math.abs(hello.t - Date.now())).toBeLessThan(60_000);
  });

  it("writes to stderr with FLWR_TS_TRACE=1", () => {
    const { stderr } = runTraced("1");
    const events = stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l).e);
    expect(events).toEqual(["hello", "work"]);
  });

  it("writes nothing when FLWR_TS_TRACE is unset or 0", () => {
    expect(runTraced(undefined).stderr).not.toContain('"e":');
    expect(runTraced("0").stderr).not.toContain('"e":');
  });
});
