/**
 * `flwr run` in-process against a flwr-ts SuperLink (plaintext, in memory, no SuperExec): the
 * `--run-config` overrides StartRun carries, from `key=value` pairs or from one TOML file as
 * Flower's `parse_config_args` reads it, one clear line for a bad file; and `--stream`'s exit
 * status when the run does not complete.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { flwr } from "../../../test/flwr-in-process.js";
import { startTestSuperLink, type TestSuperLink } from "../../../test/superlink-test-kit.js";

let link: TestSuperLink;
let appDir: string;

beforeAll(async () => {
  link = await startTestSuperLink({ tls: false, runs: true });
  appDir = join(link.dir, "app");
  mkdirSync(appDir);
  writeFileSync(
    join(appDir, "package.json"),
    JSON.stringify({
      name: "cfg-app",
      version: "1.0.0",
      type: "module",
      flwr: {
        app: {
          publisher: "flwrts",
          components: { serverapp: "server_app.ts:app", clientapp: "client_app.ts:app" },
          config: { lr: 0.1, "num-server-rounds": 3, train: { epochs: 1 } },
        },
        federations: {
          default: "local",
          local: { address: `127.0.0.1:${link.superlink.ports.controlPort}`, insecure: true },
        },
      },
    }),
  );
  writeFileSync(join(appDir, "server_app.ts"), "export const app = undefined;\n");
  writeFileSync(join(appDir, "client_app.ts"), "export const app = undefined;\n");
}, 60_000);
afterAll(async () => {
  await link.stop();
});

/** Starts a run with `args` and returns the override config the SuperLink stored. */
async function overridesOf(...args: string[]): Promise<Record<string, unknown>> {
  const r = await flwr("run", appDir, "local", "--format", "json", ...args);
  expect(r.status, r.out + r.err).toBe(0);
  const runId = BigInt((JSON.parse(r.out) as { "run-id": string | number })["run-id"]);
  const run = link.superlink.state.getRun(runId);
  expect(run).toBeDefined();
  return Object.fromEntries(
    [...run!.overrideConfig].map(([k, v]) => [
      k,
      (v as { scalar?: { value: unknown } }).scalar?.value,
    ]),
  );
}

describe("flwr run --run-config", () => {
  test("key=value pairs, TOML values", async () => {
    expect(await overridesOf("--run-config", "lr=0.5 num-server-rounds=2")).toEqual({
      lr: 0.5,
      "num-server-rounds": 2n,
    });
  });

  test("one TOML file, nested tables flattened to dotted keys", async () => {
    const file = join(link.dir, "cfg.toml");
    writeFileSync(file, 'lr = 0.25\n"num-server-rounds" = 5\n\n[train]\nepochs = 4\n');
    expect(await overridesOf("--run-config", file)).toEqual({
      lr: 0.25,
      "num-server-rounds": 5n,
      "train.epochs": 4n,
    });
  });

  test("a missing or invalid file, or a file beside pairs, is one line and exit 2", async () => {
    const bad = join(link.dir, "bad.toml");
    writeFileSync(bad, "lr = = 1\n");
    for (const args of [
      ["--run-config", join(link.dir, "missing.toml")],
      ["--run-config", bad],
      ["--run-config", bad, "--run-config", "lr=1"],
    ]) {
      const r = await flwr("run", appDir, "local", ...args);
      expect(r.status, r.out + r.err).toBe(2);
      const text = (r.out + r.err).trim();
      expect(text).toMatch(/--run-config: /);
      expect(text).not.toMatch(/\n\s+at /);
    }
  });
});

describe("flwr run --stream", () => {
  test("a run that ends other than completed is one line and exit 1", async () => {
    const before = new Set(link.superlink.state.getRunInfo().map((r) => r.runId));
    const streaming = flwr("run", appDir, "local", "--stream");
    let runId: bigint | undefined;
    for (let i = 0; i < 200 && runId === undefined; i++) {
      runId = link.superlink.state.getRunInfo().find((r) => !before.has(r.runId))?.runId;
      if (runId === undefined) await new Promise((r) => setTimeout(r, 25));
    }
    expect(runId).toBeDefined();
    // No SuperExec serves this SuperLink: the run stays pending until it is stopped.
    const control = link.control();
    await control.stopRun({ runId: runId! });
    const r = await streaming;
    expect(r.status, r.out + r.err).toBe(1);
    expect(r.err).toContain(`❌ Run ${runId} ended finished:stopped`);
  }, 30_000);
});
