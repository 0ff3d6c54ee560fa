/**
 * "Stopped means stopped" for ClientApps (issue #13, item 3), with real processes (TLS + SuperNode
 * auth, two SuperNodes with subprocess isolation): a ClientApp whose train handler sleeps 60 s
 * is gone within 5 s of `flwr stop` on both SuperNodes, and no `flwr-clientapp` (nor its
 * SuperExec) is left 1 s after its SuperNode is SIGKILLed. App processes are found in /proc by
 * their `--clientappio-api-address` / `--appio-api-address` (the SuperNode's own port). Times are
 * printed for the report.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Deployment, startDeployment } from "./fixtures/deployment.js";
import { stopAll } from "./support/processes.js";

const SLEEPY_CLIENT = `/** e2e: a ClientApp whose train handler sleeps 60 s before it replies. */
import { ClientApp, type Context, Message, MetricRecord, RecordDict } from "@flwr-ts/core";

export const app = new ClientApp();

app.train()(async (msg: Message, _context: Context) => {
  console.log("sleepy ClientApp: training for 60 s");
  await new Promise((resolve) => setTimeout(resolve, 60_000));
  const content = new RecordDict({
    arrays: msg.content.arrayRecords.get("arrays")!,
    metrics: new MetricRecord({ "num-examples": 1n }),
  });
  return new Message(content, { replyTo: msg });
});
`;

/** Pids of live processes whose command line contains every one of `parts`. */
function pidsWith(...parts: string[]): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      continue; // exited meanwhile
    }
    if (parts.every((p) => cmdline.includes(p))) pids.push(Number(entry));
  }
  return pids;
}

/** The `flwr-clientapp` processes of the SuperNode whose ClientAppIo API is on `port`. */
const clientApps = (port: number) => pidsWith("flwr-clientapp", `127.0.0.1:${port}`);
/** Its SuperExec. */
const superExecs = (port: number) =>
  pidsWith("flower-superexec", "--appio-api-address", `127.0.0.1:${port}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Milliseconds until `probe` returns true (checked every 25 ms), or throws after `timeoutMs`. */
async function msUntil(probe: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (probe()) return performance.now() - t0;
    await sleep(25);
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}

describe("flwr stop and SIGKILL reach ClientApp processes", () => {
  let d: Deployment;
  let appDir: string;
  const seen = new Set<number>();

  beforeAll(async () => {
    appDir = mkdtempSync(join(tmpdir(), "flwr-ts-sleepy-app-"));
    cpSync(join(import.meta.dirname, "fixtures/linear-app"), appDir, { recursive: true });
    writeFileSync(join(appDir, "client_app.ts"), SLEEPY_CLIENT);
    d = await startDeployment({ app: appDir });
  }, 120_000);

  afterAll(async () => {
    await d?.stop();
    await stopAll();
    // Processes of this test that a failing fix left behind.
    for (const pid of seen) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    rmSync(appDir, { recursive: true, force: true });
  });

  const startRun = async (): Promise<string> => {
    const r = await d.flwr(["run", d.appDir, "my-federation", "--format", "json"]);
    expect(r.code, r.output).toBe(0);
    return (JSON.parse(r.output) as { "run-id": string })["run-id"];
  };
  const waitForTraining = async (ports: number[]) => {
    await msUntil(
      () => ports.every((p) => clientApps(p).length > 0),
      60_000,
      "a flwr-clientapp on every SuperNode",
    );
    for (const p of ports) for (const pid of [...clientApps(p), ...superExecs(p)]) seen.add(pid);
  };

  test("flwr stop ends ClientApps that sleep 60 s within 5 s", async () => {
    const runId = await startRun();
    await waitForTraining(d.ports.clientappio);
    await Promise.all(d.supernodes.map((s) => s.waitFor("sleepy ClientApp: training", 30_000)));
    const t0 = performance.now();
    const r = await d.flwr(["stop", runId, d.appDir, "my-federation"]);
    const cliMs = performance.now() - t0;
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain(`Run ${runId} successfully stopped`);
    const goneMs =
      cliMs +
      (await msUntil(
        () => d.ports.clientappio.every((p) => clientApps(p).length === 0),
        30_000,
        "the end of every flwr-clientapp",
      ));
    console.log(
      `flwr stop: CLI returned after ${cliMs.toFixed(0)} ms; every flwr-clientapp gone ${goneMs.toFixed(0)} ms after it started`,
    );
    // The bound, from the start of `flwr stop` (its own process start included).
    expect(goneMs).toBeLessThan(5_000);
    // The SuperNodes stay up, and neither printed a stack trace.
    for (const s of d.supernodes) {
      expect(s.child.exitCode).toBeNull();
      expect(s.output()).not.toMatch(/\n\s+at .*\(/);
    }
  }, 120_000);

  test("a SIGKILLed SuperNode leaves no flwr-clientapp or SuperExec 1 s later", async () => {
    const runId = await startRun();
    const port = d.ports.clientappio[0]!;
    await waitForTraining([port]);
    expect(superExecs(port).length).toBe(1);
    const t0 = performance.now();
    d.supernodes[0]!.child.kill("SIGKILL");
    await d.supernodes[0]!.exited();
    let goneMs = Number.NaN;
    try {
      goneMs = await msUntil(
        () => clientApps(port).length === 0 && superExecs(port).length === 0,
        10_000,
        "the end of the killed SuperNode's app processes",
      );
    } finally {
      console.log(
        `SuperNode SIGKILL: its SuperExec and flwr-clientapp gone after ${goneMs.toFixed(0)} ms`,
      );
      await d.flwr(["stop", runId, d.appDir, "my-federation"]);
    }
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(goneMs).toBeLessThan(1_000);
  }, 120_000);
});
