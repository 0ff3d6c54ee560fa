/**
 * Two flwr-ts SuperLinks sharing one PostgreSQL database (issue #17 part 3), real processes:
 * TLS + SuperNode authentication on both, a real PostgreSQL server (test/postgres-server.ts),
 * four SuperNodes behind a plain TCP round-robin load balancer (e2e/support/tcp-round-robin.ts)
 * so two land on each SuperLink.
 *
 * Set-up (the one the transport README documents): SuperLink A runs the ServerApps (subprocess
 * isolation: its SuperExec); SuperLink B serves the Fleet API only (`--isolation process` with
 * no SuperExec attached, so it never starts a ServerApp of its own). `flwr run` goes to A.
 *
 * 1. One run of the linear app: every round gets a reply from all four SuperNodes, although
 *    A's ServerApp only talks to A and half of the SuperNodes only talk to B.
 * 2. SIGKILL of B after round 1 (between rounds): B's SuperNodes reconnect through the balancer to A and the run
 *    completes with every reply.
 * Measured times are printed for the report.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { generateAuthKeys, generateCertificates } from "../packages/flwr-crypto/src/index.js";
import {
  postgresUnavailable,
  startTestPostgres,
  type TestPostgres,
} from "../packages/flwr-transport/test/postgres-server.js";
import { superlinkArgs, supernodeArgs, waitForPort } from "./fixtures/deployment.js";
import { freePort } from "./support/ports.js";
import { cliPath, type RunningProcess, run, start, stopAll } from "./support/processes.js";
import { type RoundRobinProxy, startRoundRobinProxy } from "./support/tcp-round-robin.js";

const unavailable = postgresUnavailable();
const skip = unavailable !== undefined && process.env.FLWR_TS_SKIP_POSTGRES === "1";
if (unavailable !== undefined && !skip) {
  test("a PostgreSQL server can be started for the shared-SuperLink e2e", () => {
    throw new Error(`${unavailable} (or set FLWR_TS_SKIP_POSTGRES=1 to skip these tests)`);
  });
}

const N = 4;

describe.skipIf(unavailable !== undefined)("two SuperLinks on one PostgreSQL", () => {
  let pg: TestPostgres | undefined;
  let dir: string;
  let proxy: RoundRobinProxy | undefined;
  const procs: RunningProcess[] = [];

  beforeAll(async () => {
    pg = await startTestPostgres();
    dir = mkdtempSync(join(tmpdir(), "flwr-ts-pg-e2e-"));
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop("SIGTERM", 5000)));
    await stopAll();
    await proxy?.close();
    pg?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Two SuperLinks on database `db`, N SuperNodes behind the balancer, the app configured. */
  const deploy = async (db: string) => {
    await pg!.createDatabase(db);
    const url = pg!.url(db);
    const base = join(dir, db);
    mkdirSync(base);
    const certs = (await generateCertificates({ outDir: join(base, "certificates") })).paths;
    const keys = generateAuthKeys({ outDir: join(base, "keys"), count: N, curve: "P-384" });
    const flwrHome = join(base, "flwr-home");
    mkdirSync(flwrHome);
    const env = { FLWR_HOME: flwrHome, NO_COLOR: "1" };
    const portsOf = async () => ({
      fleet: await freePort(),
      control: await freePort(),
      serverappio: await freePort(),
    });
    const a = await portsOf();
    const b = await portsOf();
    const t0 = performance.now();
    const linkA = start(
      cliPath("flower-superlink"),
      [...superlinkArgs(certs, a), "--port", "0", "--database", url],
      { env },
    );
    const linkB = start(
      cliPath("flower-superlink"),
      [...superlinkArgs(certs, b), "--port", "0", "--database", url, "--isolation", "process"],
      { env },
    );
    procs.push(linkA, linkB);
    await Promise.all([a.fleet, a.control, b.fleet, b.control].map((p) => waitForPort(p)));
    const superlinksUp = performance.now() - t0;

    const appDir = join(base, "app");
    cpSync(join(import.meta.dirname, "fixtures/linear-app"), appDir, { recursive: true });
    const pkgFile = join(appDir, "package.json");
    const pkg = JSON.parse(readFileSync(pkgFile, "utf8"));
    pkg.flwr.federations = {
      default: "my-federation",
      "my-federation": { address: `127.0.0.1:${a.control}`, "root-certificates": certs.caCert },
    };
    writeFileSync(pkgFile, JSON.stringify(pkg, null, 2));
    const flwr = (args: string[], timeoutMs = 60_000) =>
      run(cliPath("flwr"), args, { env, timeoutMs, cwd: base });
    // Registered through A's Control API; B sees the keys in the shared state.
    for (const key of keys) {
      const r = await flwr(["supernode", "register", key.publicKeyPath, appDir, "my-federation"]);
      expect(r.code, r.output).toBe(0);
    }
    proxy = await startRoundRobinProxy([a.fleet, b.fleet]);
    const supernodes: RunningProcess[] = [];
    for (let i = 0; i < N; i++) {
      const p = start(
        cliPath("flower-supernode"),
        supernodeArgs(certs.caCert, keys[i]!.privateKeyPath, proxy.port, await freePort(), i),
        { env },
      );
      procs.push(p);
      supernodes.push(p);
    }
    await Promise.all(supernodes.map((s) => s.waitFor("SuperNode ID", 30_000)));
    const supernodesUp = performance.now() - t0;
    return { linkA, linkB, appDir, flwr, env, base, superlinksUp, supernodesUp, proxy };
  };

  test("one run completes with every reply; after SIGKILL of one SuperLink its SuperNodes move to the other", async () => {
    const d = await deploy("flwr_shared");
    // Each SuperNode keeps one HTTP/2 connection: two went to each SuperLink.
    expect([...d.proxy.forwarded.values()]).toEqual([2, 2]);
    const rounds = 4;
    const t0 = performance.now();
    const flwrRun = start(
      cliPath("flwr"),
      [
        "run",
        d.appDir,
        "my-federation",
        "--run-config",
        `num-server-rounds=${rounds} round-delay-ms=1500`,
        "--stream",
      ],
      { env: d.env, cwd: d.base },
    );
    procs.push(flwrRun);
    // Killed in the quiet window of the server-side evaluation after round 1 (no instruction in
    // flight): an instruction that B marked delivered but whose PullMessages response never
    // reached the SuperNode would be lost (as with one SuperLink crashing), and the round would
    // wait for its TTL. See the transport README.
    await flwrRun.waitFor(/aggregate_evaluate: Received 4 results and 0 failures/, 60_000);
    const round1 = performance.now() - t0;
    d.linkB.child.kill("SIGKILL");
    await d.linkB.exited();
    const killedAt = performance.now() - t0;
    const code = await Promise.race([
      flwrRun.exited(),
      new Promise((r) => setTimeout(() => r("timeout"), 60_000)),
    ]);
    const runDone = performance.now() - t0;
    const out = flwrRun.output();
    console.log(
      `PostgreSQL shared e2e: SuperLinks up ${d.superlinksUp.toFixed(0)} ms, ${N} SuperNodes up ${d.supernodesUp.toFixed(0)} ms; ` +
        `round 1 done ${round1.toFixed(0)} ms after flwr run, SuperLink B killed at ${killedAt.toFixed(0)} ms, ` +
        `run finished at ${runDone.toFixed(0)} ms (exit ${code}); connections per SuperLink ${JSON.stringify([...d.proxy.forwarded])}`,
    );
    if (code !== 0) {
      for (const p of procs)
        console.log(`---- ${p.child.spawnargs.slice(1, 3).join(" ")}\n${p.output().slice(-3000)}`);
    }
    expect(code, out).toBe(0);
    const trains = out.match(/aggregate_train: Received \d+ results and \d+ failures/g) ?? [];
    const evals = out.match(/aggregate_evaluate: Received \d+ results and \d+ failures/g) ?? [];
    expect(trains, out).toEqual(
      Array(rounds).fill("aggregate_train: Received 4 results and 0 failures"),
    );
    expect(evals, out).toEqual(
      Array(rounds).fill("aggregate_evaluate: Received 4 results and 0 failures"),
    );
    expect(out).toMatch(/final model: w=\[/);
    // B's two SuperNodes came back through the balancer to A.
    expect(d.proxy.forwarded.get([...d.proxy.forwarded.keys()][0]!)).toBeGreaterThanOrEqual(4);
  }, 120_000);
});
