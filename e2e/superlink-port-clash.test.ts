/**
 * A second `flower-superlink` on a busy port (issue #12, finding 4), real processes: it prints
 * Python Flower's one line, `Port in server address 127.0.0.1:<port> is already in use.`, and
 * exits 1 — without grpc-js's "No address added out of total 1 resolved", without Flower's
 * exit-code report ("An important background thread has crashed."), without first opening
 * (or announcing) its Control API, and without leaving a new SQLite file behind. Checked for the
 * Fleet, Control, ServerAppIo and HTTP ports. Run `pnpm build` first.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { waitForPort } from "./fixtures/deployment.js";
import { freePort } from "./support/ports.js";
import { cliPath, type RunningProcess, run, start, stopAll } from "./support/processes.js";

interface Ports {
  fleet: number;
  control: number;
  serverappio: number;
  http: number;
}

const args = (p: Ports, database: string) => [
  "--insecure",
  "--fleet-api-address",
  `127.0.0.1:${p.fleet}`,
  "--control-api-address",
  `127.0.0.1:${p.control}`,
  "--serverappio-api-address",
  `127.0.0.1:${p.serverappio}`,
  "--port",
  String(p.http),
  "--database",
  database,
];

let dir: string;
let first: RunningProcess;
let taken: Ports;
const newPorts = async (): Promise<Ports> => ({
  fleet: await freePort(),
  control: await freePort(),
  serverappio: await freePort(),
  http: await freePort(),
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "flwr-e2e-port-clash-"));
  taken = await newPorts();
  first = start(cliPath("flower-superlink"), args(taken, join(dir, "first.db")));
  await first.waitFor("Starting HTTP API", 20_000);
  await Promise.all([waitForPort(taken.fleet), waitForPort(taken.control)]);
}, 60_000);

afterAll(async () => {
  await stopAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("a second flower-superlink on a busy port", () => {
  test.each(["fleet", "control", "serverappio", "http"] as const)(
    "the %s port: one Flower line, exit 1, no Control API, no new database file",
    async (which) => {
      const ports = { ...(await newPorts()), [which]: taken[which] };
      const database = join(dir, `second-${which}.db`);
      const t0 = performance.now();
      const r = await run(cliPath("flower-superlink"), args(ports, database), {
        timeoutMs: 30_000,
      });
      const took = performance.now() - t0;
      expect(r.code, r.output).toBe(1);
      const lines = r.output.trimEnd().split("\n");
      expect(lines.at(-1), r.output).toBe(
        `Port in server address 127.0.0.1:${taken[which]} is already in use.`,
      );
      expect(r.output).not.toMatch(/No address added|background thread|Exit Code|^E /m);
      expect(r.output).not.toMatch(/Starting (Control|Fleet|ServerAppIo|HTTP)/);
      expect(r.output).not.toMatch(/\n\s+at /);
      expect(existsSync(database), r.output).toBe(false);
      expect(took, r.output).toBeLessThan(10_000);
      // The first SuperLink is untouched.
      expect(first.child.exitCode).toBeNull();
    },
    60_000,
  );
});
