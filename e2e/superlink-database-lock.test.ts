/**
 * One SuperLink per SQLite database (issue #13, item 2b), with real `flower-superlink` processes
 * (TLS + SuperNode auth): a second SuperLink on the same `--database` exits at once, non-zero,
 * with one line naming the first one's pid and the file, and nothing stored is lost; after a
 * SIGKILL of the holder a restart on the same file works (the lock dies with its process). And a
 * failed start (Fleet port taken) leaves no new database file behind, while an existing one is
 * kept. Times are printed for the report.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { generateAuthKeys, generateCertificates } from "../packages/flwr-crypto/src/index.js";
import { superlinkArgs, waitForPort } from "./fixtures/deployment.js";
import { freePort } from "./support/ports.js";
import { cliPath, type RunningProcess, run, start, stopAll } from "./support/processes.js";

const superlinkBin = cliPath("flower-superlink");

describe.skipIf(!existsSync(superlinkBin))("one SuperLink per SQLite database", () => {
  let dir: string;
  let appDir: string;
  let db: string;
  let certs: Awaited<ReturnType<typeof generateCertificates>>["paths"];
  let keys: ReturnType<typeof generateAuthKeys>;
  let ports: { fleet: number; control: number; serverappio: number };
  let first: RunningProcess;

  const superlink = (
    database: string,
    p: { fleet: number; control: number; serverappio: number },
  ) =>
    start(superlinkBin, [
      ...superlinkArgs(certs, p),
      "--port",
      "0",
      "--isolation",
      "process",
      "--database",
      database,
    ]);
  const newPorts = async () => ({
    fleet: await freePort(),
    control: await freePort(),
    serverappio: await freePort(),
  });
  const flwr = (args: string[]) =>
    run(cliPath("flwr"), ["supernode", ...args], { timeoutMs: 30_000 });
  const listedKeys = async (): Promise<number> => {
    const r = await flwr(["list", appDir, "my-federation", "--format", "json"]);
    expect(r.code, r.output).toBe(0);
    return (JSON.parse(r.output) as { nodes: unknown[] }).nodes.length;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "flwr-ts-dblock-"));
    db = join(dir, "state.db");
    certs = (await generateCertificates({ outDir: join(dir, "certificates") })).paths;
    keys = generateAuthKeys({ outDir: join(dir, "keys"), count: 2 });
    ports = await newPorts();
    appDir = join(dir, "app");
    mkdirSync(appDir);
    writeFileSync(
      join(appDir, "package.json"),
      JSON.stringify({
        name: "dblock",
        flwr: {
          app: {},
          federations: {
            default: "my-federation",
            "my-federation": {
              address: `127.0.0.1:${ports.control}`,
              "root-certificates": certs.caCert,
            },
          },
        },
      }),
    );
    first = superlink(db, ports);
    await Promise.all([waitForPort(ports.fleet), waitForPort(ports.control)]);
    for (const key of keys) {
      const r = await flwr(["register", key.publicKeyPath, appDir, "my-federation"]);
      expect(r.code, r.output).toBe(0);
    }
  }, 60_000);

  afterAll(async () => {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a second SuperLink on the same file exits at once with one line naming the first", async () => {
    const t0 = performance.now();
    const r = await run(
      superlinkBin,
      [
        ...superlinkArgs(certs, await newPorts()),
        "--port",
        "0",
        "--isolation",
        "process",
        "--database",
        db,
      ],
      { timeoutMs: 30_000 },
    );
    const ms = performance.now() - t0;
    console.log(`second SuperLink on the same database exited ${r.code} after ${ms.toFixed(0)} ms`);
    expect(r.code).not.toBe(0);
    expect(typeof r.code).toBe("number");
    // Flower's exit-code report (as for every bad --database), with one line naming the holder.
    expect(r.output).toMatch(/Exit Code: 104/);
    const errors = r.output.split("\n").filter((l) => l.includes("in use by"));
    expect(errors, r.output).toHaveLength(1);
    expect(errors[0]).toContain(db);
    expect(errors[0]).toContain(`pid ${first.child.pid}`);
    expect(r.output).not.toMatch(/\n\s+at /); // no stack trace
    // Generous for a loaded 2-core machine: the refusal itself takes no SQLite busy wait.
    expect(ms).toBeLessThan(10_000);
    // The first SuperLink still serves, with everything it stored.
    expect(first.child.exitCode).toBeNull();
    expect(await listedKeys()).toBe(2);
  }, 60_000);

  test("after a SIGKILL of the holder a restart on the same file works and keeps the data", async () => {
    expect(await first.stop("SIGKILL")).toBe("SIGKILL");
    expect(existsSync(`${db}.lock`)).toBe(true); // left behind by the killed process
    const t0 = performance.now();
    first = superlink(db, ports);
    await Promise.all([waitForPort(ports.fleet), waitForPort(ports.control)]);
    console.log(`restart after SIGKILL serving after ${(performance.now() - t0).toFixed(0)} ms`);
    expect(await listedKeys()).toBe(2);
    expect(first.output()).not.toMatch(/in use by/);
  }, 60_000);

  describe("a failed start (Fleet port taken)", () => {
    let blocker: Server;
    let taken: number;
    beforeAll(async () => {
      taken = await freePort();
      blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(taken, "127.0.0.1", resolve));
    });
    afterAll(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

    const failedStart = async (database: string) => {
      const p = { ...(await newPorts()), fleet: taken };
      const r = await run(
        superlinkBin,
        [
          ...superlinkArgs(certs, p),
          "--port",
          "0",
          "--isolation",
          "process",
          "--database",
          database,
        ],
        { timeoutMs: 30_000 },
      );
      expect(r.code, r.output).not.toBe(0);
      expect(r.output).toMatch(/Port in server address 127\.0\.0\.1:\d+ is already in use\./);
      return r;
    };

    test("leaves no new database file behind", async () => {
      const fresh = join(dir, "fresh");
      mkdirSync(fresh);
      await failedStart(join(fresh, "new.db"));
      expect(readdirSync(fresh)).toEqual([]);
    }, 60_000);

    test("keeps an existing database file", async () => {
      const kept = join(dir, "kept.db");
      const holder = superlink(kept, await newPorts());
      await holder.waitFor("Starting Fleet API", 20_000);
      await holder.stop("SIGTERM");
      await failedStart(kept);
      expect(existsSync(kept)).toBe(true);
    }, 60_000);
  });
});
