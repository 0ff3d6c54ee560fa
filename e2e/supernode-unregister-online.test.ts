/**
 * `flwr supernode unregister` of an online SuperNode while its ClientApps work (issue #13,
 * item 4), with real processes (TLS + SuperNode auth): the SuperNode stops with one clear line,
 * its `flwr-clientapp` processes end with it, and nothing on its console (its own output and
 * its app processes', which inherit it) is a stack trace. Two scenes: a ClientApp in its handler
 * (a train that sleeps 60 s), and warm ClientApps waiting between the rounds of a long run.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
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

/** Pids of live `flwr-clientapp` processes of the SuperNode whose ClientAppIo API is on `port`. */
function clientApps(port: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
      if (cmd.includes("flwr-clientapp") && cmd.includes(`127.0.0.1:${port}`))
        pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(probe: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!probe()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what} did not happen in ${timeoutMs} ms`);
    await sleep(25);
  }
}

/** Lines of a stack trace (`    at fn (file:line:col)`) or gRPC's error dump. */
const STACK_LINE = /^\s+at \S|^\s*code: \d+,|^\s*metadata: Metadata/m;

describe("flwr supernode unregister of an online SuperNode", () => {
  let d: Deployment | undefined;
  let appDir: string | undefined;

  afterEach(async () => {
    await d?.stop();
    await stopAll();
    if (appDir) rmSync(appDir, { recursive: true, force: true });
    d = undefined;
    appDir = undefined;
  });

  const unregisterFirst = async (dep: Deployment) => {
    const node = dep.supernodes[0]!;
    const nodeId = /SuperNode ID: (\d+)/.exec(node.output())?.[1];
    expect(nodeId, node.output()).toBeDefined();
    const port = dep.ports.clientappio[0]!;
    expect(clientApps(port).length).toBeGreaterThan(0);
    const mark = node.output().length;
    const t0 = performance.now();
    const r = await dep.flwr(["supernode", "unregister", nodeId!, dep.appDir, "my-federation"]);
    expect(r.code, r.output).toBe(0);
    const status = await Promise.race([node.exited(), sleep(30_000).then(() => "running")]);
    await until(() => clientApps(port).length === 0, 10_000, "the end of its flwr-clientapp");
    const ms = performance.now() - t0;
    const after = node.output().slice(mark);
    console.log(
      `unregister of an online node: SuperNode exited ${status}, its ClientApps gone after ${ms.toFixed(0)} ms; its console after the unregister:\n${after}`,
    );
    expect(status).not.toBe("running");
    expect(after).not.toMatch(STACK_LINE);
    // An app process that lost its SuperNode says so in one WARNING line, never as an ERROR.
    expect(after).not.toMatch(/ERROR : +flwr-clientapp/);
    // The SuperNode says why it stopped, in one line.
    expect(after.split("\n").filter((l) => /unregistered|not registered/i.test(l))).toHaveLength(1);
  };

  test("while its ClientApp is in its handler: clean exits, no stack trace", async () => {
    appDir = mkdtempSync(join(tmpdir(), "flwr-ts-sleepy-app-"));
    cpSync(join(import.meta.dirname, "fixtures/linear-app"), appDir, { recursive: true });
    writeFileSync(join(appDir, "client_app.ts"), SLEEPY_CLIENT);
    d = await startDeployment({ app: appDir });
    const r = await d.flwr(["run", d.appDir, "my-federation", "--format", "json"]);
    expect(r.code, r.output).toBe(0);
    await d.supernodes[0]!.waitFor("sleepy ClientApp: training", 60_000);
    await unregisterFirst(d);
  }, 180_000);

  test("while its warm ClientApps wait between rounds: clean exits, no stack trace", async () => {
    d = await startDeployment();
    const r = await d.flwr([
      "run",
      d.appDir,
      "my-federation",
      "--run-config",
      "num-server-rounds=1000 round-delay-ms=300",
      "--format",
      "json",
    ]);
    expect(r.code, r.output).toBe(0);
    const port = d.ports.clientappio[0]!;
    await until(() => clientApps(port).length > 0, 60_000, "a warm flwr-clientapp");
    await sleep(1500); // a few rounds: replies pushed, the warm process waiting for the next
    await unregisterFirst(d);
  }, 180_000);
});
