/**
 * Interop of whole runs with the pinned Python flwr (1.29), real processes, TLS and SuperNode
 * authentication, each scenario a multi-round FedAvg run that must end `finished:completed`:
 *
 * (a) OUR SuperLink (`--isolation process`) with Python everywhere else: a NumPy Python app
 *     (`fixtures/python-numpy-app`) started by Python `flwr run` (so the FAB is built by Python's
 *     `flwr build` code and accepted by our StartRun), two Python `flower-supernode --isolation
 *     process` each served by a Python `flower-superexec --plugin-type clientapp`, and a Python
 *     `flower-superexec --plugin-type serverapp` against our ServerAppIo API.
 * (b) A Python SuperLink (`--isolation process`) with flwr-ts everywhere else: the TypeScript
 *     linear-regression app (`fixtures/linear-app`) started by OUR `flwr run` (our FAB accepted by
 *     Python's StartRun), our SuperNodes with their SuperExecs, and our
 *     `flower-superexec --plugin-type serverapp` running the TS ServerApp against Python's
 *     ServerAppIo API.
 * (c) In both, the run's FAB as both `flwr ls` list it has the SHA-256 of the submitting side's
 *     `flwr build` output for the same app: each SuperLink took the other implementation's FAB
 *     unchanged (and the app processes installed and ran it).
 *
 * Each federation also has a third SuperNode for the remaining AppIo pairings: in (a) OUR
 * SuperNode in `--isolation process` served by a Python `flower-superexec --plugin-type clientapp`
 * (Python `flwr-clientapp` against our ClientAppIo), in (b) a Python SuperNode in
 * `--isolation process` served by OUR clientapp SuperExec (TS `flwr-clientapp` against Python's
 * ClientAppIo).
 *
 * Both check the streamed rounds (every SuperNode's result in every round) and the learned model,
 * `finished:completed` in both `flwr ls` CLIs (ours and Python's), the logs replayed by both
 * `flwr log`, and Flower's refusal of `flwr stop` on the finished run in both. Two more runs that
 * cannot finish (no SuperNodes) are stopped with the other implementation's `flwr stop`; the
 * ServerApp process exits. The four run concurrently. `FLWR_TS_E2E_DUMP=1` prints every
 * process's output. Run `pnpm build` first.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { pythonBinDir, pythonFlwrAvailable, pythonFlwrProblem } from "../interop/python.js";
import { generateAuthKeys, generateCertificates } from "../packages/flwr-crypto/src/index.js";
import { waitForPort } from "./fixtures/deployment.js";
import { freePort } from "./support/ports.js";
import { cliPath, type RunningProcess, run, start, stopAll } from "./support/processes.js";

const py = (bin: string) => join(pythonBinDir, bin);

/** Certificates, two SuperNode key pairs, a `$FLWR_HOME`, the ports of one SuperLink. */
interface Scene {
  dir: string;
  home: string;
  env: Record<string, string>;
  certs: { caCert: string; serverCert: string; serverKey: string };
  keys: { privateKeyPath: string; publicKeyPath: string }[];
  ports: { fleet: number; control: number; serverappio: number; clientappio: number[] };
  /** A copy of the TS linear app whose `my-federation` targets this SuperLink (for our CLI). */
  tsApp: string;
}

/** Certificates, `nodes` SuperNode key pairs and ClientAppIo ports, config for both CLIs. */
async function makeScene(prefix: string, nodes: number): Promise<Scene> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const certs = (await generateCertificates({ outDir: join(dir, "certificates") })).paths;
  const keys = generateAuthKeys({ outDir: join(dir, "keys"), count: Math.max(nodes, 1) });
  const ports = {
    fleet: await freePort(),
    control: await freePort(),
    serverappio: await freePort(),
    clientappio: [] as number[],
  };
  for (let i = 0; i < nodes; i++) ports.clientappio.push(await freePort());
  const home = join(dir, "flwr-home");
  mkdirSync(home);
  // Python's CLI (1.29) reads SuperLink connections from $FLWR_HOME/config.toml.
  writeFileSync(
    join(home, "config.toml"),
    `[superlink]\ndefault = "e2e"\n\n[superlink.e2e]\naddress = "127.0.0.1:${ports.control}"\nroot-certificates = "${certs.caCert}"\n`,
  );
  // Ours reads federations from the app's package.json.
  const tsApp = join(dir, "ts-app");
  cpSync(join(import.meta.dirname, "fixtures/linear-app"), tsApp, { recursive: true });
  const pkgFile = join(tsApp, "package.json");
  const pkg = JSON.parse(readFileSync(pkgFile, "utf8"));
  pkg.flwr.federations = {
    default: "my-federation",
    "my-federation": { address: `127.0.0.1:${ports.control}`, "root-certificates": certs.caCert },
  };
  writeFileSync(pkgFile, JSON.stringify(pkg, null, 2));
  const env = {
    FLWR_HOME: home,
    NO_COLOR: "1",
    FLWR_TELEMETRY_ENABLED: "0",
    PYTHONUNBUFFERED: "1",
    // Python SuperExecs launch `flwr-serverapp` / `flwr-clientapp` from PATH.
    PATH: `${pythonBinDir}:${process.env["PATH"] ?? ""}`,
  };
  return { dir, home, env, certs, keys, ports, tsApp };
}

/** Runs Python's `flwr` with the scene's `$FLWR_HOME`. */
function pyFlwr(s: Scene, args: string[], timeoutMs = 120_000) {
  return run(py("flwr"), args, { env: s.env, cwd: s.dir, timeoutMs });
}

/** Runs our `flwr` (the federation comes from the TS app copy). */
function tsFlwr(s: Scene, args: string[], timeoutMs = 120_000) {
  return run(cliPath("flwr"), args, { env: s.env, cwd: s.dir, timeoutMs });
}

/** A run as `flwr ls --format json` lists it (both CLIs use Flower's keys). */
interface ListedRun {
  "run-id": string;
  "fab-id": string;
  "fab-version": string;
  "fab-hash": string;
  status: string;
}

/** The run as our `flwr ls --format json` lists it (cheap: polled). */
async function listOurs(s: Scene, runId: string): Promise<ListedRun | undefined> {
  const o = await tsFlwr(s, [
    "ls",
    s.tsApp,
    "my-federation",
    "--run-id",
    runId,
    "--format",
    "json",
  ]);
  expect(o.code, o.output).toBe(0);
  return (JSON.parse(o.output) as { runs: ListedRun[] }).runs.find((r) => r["run-id"] === runId);
}

/** The run as Python's `flwr ls --format json` lists it (a Python start: not polled). */
async function listPython(s: Scene, runId: string): Promise<ListedRun | undefined> {
  const p = await pyFlwr(s, ["ls", "e2e", "--run-id", runId, "--format", "json"]);
  expect(p.code, p.output).toBe(0);
  const doc = JSON.parse(p.output.slice(p.output.indexOf("{"))) as { runs: ListedRun[] };
  return doc.runs.find((r) => String(r["run-id"]) === runId);
}

/** Polls our `flwr ls` until `done` holds (or the deadline passes), then asks both CLIs. */
async function waitListed(
  s: Scene,
  runId: string,
  done: (status: string) => boolean,
  timeoutMs = 120_000,
): Promise<{ py?: ListedRun; ts?: ListedRun }> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !done((await listOurs(s, runId))?.status ?? ""))
    await new Promise((r) => setTimeout(r, 300));
  const [py, ts] = await Promise.all([listPython(s, runId), listOurs(s, runId)]);
  return { py, ts };
}

/** Both CLIs' listing once the run has finished. */
function waitFinished(s: Scene, runId: string) {
  return waitListed(s, runId, (status) => status.startsWith("finished"));
}

/** `flwr log <run-id> --show` of both CLIs: [Python's output, ours]. */
async function logsBoth(s: Scene, runId: string): Promise<[string, string]> {
  const [p, o] = await Promise.all([
    pyFlwr(s, ["log", runId, "e2e", "--show"]),
    tsFlwr(s, ["log", runId, s.tsApp, "my-federation", "--show"]),
  ]);
  expect(p.code, p.output).toBe(0);
  expect(o.code, o.output).toBe(0);
  return [p.output, o.output];
}

/** SHA-256 (hex) of the single `.fab` file `build` writes into a fresh directory. */
async function builtFabHash(
  s: Scene,
  build: (outDir: string) => Promise<{ code: number | string; output: string }>,
): Promise<string> {
  const outDir = mkdtempSync(join(s.dir, "fab-"));
  const r = await build(outDir);
  expect(r.code, r.output).toBe(0);
  const files = readdirSync(outDir).filter((f) => f.endsWith(".fab"));
  expect(files, r.output).toHaveLength(1);
  return createHash("sha256")
    .update(readFileSync(join(outDir, files[0]!)))
    .digest("hex");
}

function tls(s: Scene): string[] {
  return [
    "--ssl-ca-certfile",
    s.certs.caCert,
    "--ssl-certfile",
    s.certs.serverCert,
    "--ssl-keyfile",
    s.certs.serverKey,
  ];
}

function apiAddresses(s: Scene): string[] {
  return [
    "--fleet-api-address",
    `127.0.0.1:${s.ports.fleet}`,
    "--control-api-address",
    `127.0.0.1:${s.ports.control}`,
    "--serverappio-api-address",
    `127.0.0.1:${s.ports.serverappio}`,
  ];
}

function supernodeArgs(s: Scene, i: number): string[] {
  return [
    "--root-certificates",
    s.certs.caCert,
    "--auth-supernode-private-key",
    s.keys[i]!.privateKeyPath,
    "--superlink",
    `127.0.0.1:${s.ports.fleet}`,
    "--clientappio-api-address",
    `127.0.0.1:${s.ports.clientappio[i]}`,
    "--node-config",
    `partition-id=${i}`,
  ];
}

/** Every process's output, for failure messages. */
function dump(procs: Record<string, RunningProcess>): string {
  return Object.entries(procs)
    .map(([name, p]) => `----- ${name} -----\n${p.output().slice(-6000)}`)
    .join("\n");
}

/** Which implementation plays a part. */
type Impl = "ts" | "py";

/** One deployment + run across the two implementations. */
interface Scenario {
  /** Scratch-directory prefix. */
  readonly name: string;
  /** The SuperLink (always `--isolation process`: the app's own SuperExec runs the ServerApp). */
  readonly superlink: Impl;
  /** The app: `py` = fixtures/python-numpy-app via Python `flwr run`, `ts` = linear-app via ours. */
  readonly app: Impl;
  /**
   * The SuperNodes. `clientapp` is who runs the ClientApp: a separate SuperExec of that
   * implementation (SuperNode in `--isolation process`), or `"own"` for a flwr-ts SuperNode's
   * default subprocess SuperExec.
   */
  readonly supernodes: readonly { readonly node: Impl; readonly clientapp: Impl | "own" }[];
  /** FedAvg rounds (set with `--run-config num-server-rounds=N`). */
  readonly rounds: number;
}

const BIN = {
  superlink: { ts: cliPath("flower-superlink"), py: py("flower-superlink") },
  supernode: { ts: cliPath("flower-supernode"), py: py("flower-supernode") },
  superexec: { ts: cliPath("flower-superexec"), py: py("flower-superexec") },
};

/** Starts `flower-superexec` (ours or Python's) for `pluginType` against an AppIo `port`. */
function superexec(impl: Impl, pluginType: string, port: number, s: Scene): RunningProcess {
  return start(
    BIN.superexec[impl],
    ["--plugin-type", pluginType, "--appio-api-address", `127.0.0.1:${port}`, "--insecure"],
    { env: s.env },
  );
}

/**
 * A scene with its SuperLink (TLS, `--enable-supernode-auth`, `--isolation process`) up: all three
 * APIs announced by the process itself. The ports come from `freePort()`, so on this shared
 * machine another process may take one before the SuperLink binds it; the SuperLink then exits
 * and the scene is made again with new ports (3 attempts).
 */
async function startSuperLink(
  name: string,
  impl: Impl,
  nodes: number,
): Promise<{ s: Scene; procs: Record<string, RunningProcess> }> {
  for (let attempt = 1; ; attempt++) {
    const s = await makeScene(`flwr-interop-${name}-`, nodes);
    const procs: Record<string, RunningProcess> = {};
    const superlink = start(
      BIN.superlink[impl],
      [
        ...tls(s),
        "--enable-supernode-auth",
        "--isolation",
        "process",
        ...apiAddresses(s),
        // flwr-ts also serves Flower 1.40+'s HTTP API: on a free port, never 8000.
        ...(impl === "ts" ? ["--port", "0"] : []),
      ],
      { env: s.env },
    );
    procs[`superlink (${impl})`] = superlink;
    try {
      for (const api of [
        `Starting Control API on 127.0.0.1:${s.ports.control}`,
        `Starting Fleet API (gRPC-rere) on 127.0.0.1:${s.ports.fleet}`,
        `Starting ServerAppIo API on 127.0.0.1:${s.ports.serverappio}`,
      ])
        await superlink.waitFor(api, 60_000);
      await Promise.all(
        [s.ports.fleet, s.ports.control, s.ports.serverappio].map((p) => waitForPort(p, 60_000)),
      );
      return { s, procs };
    } catch (error) {
      await superlink.stop("SIGKILL");
      rmSync(s.dir, { recursive: true, force: true });
      if (attempt >= 3) throw error;
    }
  }
}

/**
 * Brings up the scenario's processes (TLS + SuperNode auth), registers the SuperNodes' keys,
 * runs the app with `flwr run --stream` and checks: every round and the final model in the
 * streamed log, every SuperNode's results in every round, `finished:completed` in both `flwr ls`,
 * the logs replayed by both `flwr log`, both `flwr stop` refused for the finished run, and the
 * run's FAB hash equal to the submitting side's `flwr build` output (FAB interop).
 * Stops everything and removes the scratch directory afterwards.
 */
async function runScenario(sc: Scenario): Promise<void> {
  const { s, procs } = await startSuperLink(sc.name, sc.superlink, sc.supernodes.length);
  try {
    procs[`superexec serverapp (${sc.app})`] = superexec(
      sc.app,
      "serverapp",
      s.ports.serverappio,
      s,
    );
    // Our CLI registers the keys with either SuperLink (it starts faster than Python's;
    // Python's `flwr supernode register` against ours is in superlink-python-interop.test.ts).
    const registered = await Promise.all(
      s.keys.map((key) =>
        tsFlwr(s, ["supernode", "register", key.publicKeyPath, s.tsApp, "my-federation"]),
      ),
    );
    for (const r of registered) expect(r.code, `${r.output}\n${dump(procs)}`).toBe(0);
    sc.supernodes.forEach(({ node, clientapp }, i) => {
      const isolation = clientapp === "own" ? [] : ["--isolation", "process"];
      procs[`supernode ${i} (${node})`] = start(
        BIN.supernode[node],
        [...supernodeArgs(s, i), ...isolation],
        { env: s.env },
      );
      if (clientapp !== "own")
        procs[`superexec clientapp ${i} (${clientapp})`] = superexec(
          clientapp,
          "clientapp",
          s.ports.clientappio[i]!,
          s,
        );
    });

    // Every SuperNode online first, so that FedAvg samples all of them from round 1.
    const onlineBy = Date.now() + 120_000;
    let online = 0;
    while (online < sc.supernodes.length && Date.now() < onlineBy) {
      const l = await tsFlwr(s, [
        "supernode",
        "list",
        s.tsApp,
        "my-federation",
        "--format",
        "json",
      ]);
      expect(l.code, l.output).toBe(0);
      const nodes = (JSON.parse(l.output) as { nodes: { status: string }[] }).nodes;
      online = nodes.filter((n) => n.status === "online").length;
      if (online < sc.supernodes.length) await new Promise((res) => setTimeout(res, 300));
    }
    expect(online, dump(procs)).toBe(sc.supernodes.length);

    const pyApp = join(import.meta.dirname, "fixtures/python-numpy-app");
    const rounds = `num-server-rounds=${sc.rounds}`;
    const r =
      sc.app === "py"
        ? await pyFlwr(s, ["run", pyApp, "e2e", "--stream", "--run-config", rounds], 240_000)
        : await tsFlwr(
            s,
            ["run", s.tsApp, "my-federation", "--stream", "--run-config", rounds],
            240_000,
          );
    expect(r.code, `${r.output}\n${dump(procs)}`).toBe(0);
    const runId = /Successfully started run (\d+)/.exec(r.output)?.[1];
    expect(runId, r.output).toBeDefined();
    for (let round = 1; round <= sc.rounds; round++)
      expect(r.output, dump(procs)).toContain(`[ROUND ${round}/${sc.rounds}]`);
    expect(r.output).not.toContain(`[ROUND ${sc.rounds + 1}/`);
    const n = sc.supernodes.length;
    expect(r.output).toContain(`configure_train: Sampled ${n} nodes (out of ${n})`);
    expect(r.output).toContain(`aggregate_train: Received ${n} results and 0 failures`);
    expect(r.output).toContain(`aggregate_evaluate: Received ${n} results and 0 failures`);
    expect(r.output).not.toMatch(/Received \d+ results and [1-9]\d* failures/);
    // Both apps learn y = 2·x1 − 3·x2 + 0.5.
    const w = /final model: w=\[([-\d.]+), ([-\d.]+)\]/.exec(r.output);
    expect(w, r.output).not.toBeNull();
    expect(Number(w![1])).toBeGreaterThan(1);
    expect(Number(w![2])).toBeLessThan(-1.5);

    // Python CLIs start slowly: list, replay the logs, stop and rebuild side by side.
    const [listed, logs, stops, fabHash] = await Promise.all([
      waitFinished(s, runId!),
      logsBoth(s, runId!),
      Promise.all([
        pyFlwr(s, ["stop", runId!, "e2e"]),
        tsFlwr(s, ["stop", runId!, s.tsApp, "my-federation"]),
      ]),
      builtFabHash(s, (out) =>
        sc.app === "py"
          ? run(py("flwr"), ["build", "--app", pyApp], { env: s.env, cwd: out })
          : run(cliPath("flwr"), ["build", s.tsApp, "--output", out], {
              env: s.env,
              cwd: s.dir,
            }),
      ),
    ]);
    expect(listed.py?.status, dump(procs)).toBe("finished:completed");
    expect(listed.ts?.status).toBe("finished:completed");
    for (const log of logs) {
      expect(log).toContain(`[ROUND ${sc.rounds}/${sc.rounds}]`);
      expect(log).toMatch(/final model: w=\[/);
    }
    // Stopping the finished run: Flower's refusal reaches both CLIs.
    for (const stop of stops) {
      expect(stop.code, stop.output).not.toBe(0);
      expect(stop.output).toContain(`Run ID ${runId} is already finished`);
    }
    // (c) The SuperLink stored the FAB exactly as the submitting side's `flwr build` makes it.
    for (const entry of [listed.py, listed.ts]) {
      expect(entry?.["fab-id"]).toBe(sc.app === "py" ? "flwrts/numpyapp" : "flwrts/linear-app");
      expect(entry?.["fab-version"]).toBe("1.0.0");
      expect(entry?.["fab-hash"]).toBe(fabHash);
    }

    const all = dump(procs);
    if (process.env["FLWR_TS_E2E_DUMP"]) process.stdout.write(`${r.output}\n${all}\n`);
    expect(procs[`superlink (${sc.superlink})`]!.output()).not.toMatch(
      /Unexpected error|Traceback|ERROR/,
    );
    // Python servers answer polls at once: our clients must not pile up abort listeners.
    expect(all).not.toContain("MaxListenersExceededWarning");
  } finally {
    await Promise.all(Object.values(procs).map((p) => p.stop("SIGTERM", 5000)));
    rmSync(s.dir, { recursive: true, force: true });
  }
}

/** PIDs of `flwr-serverapp` processes (either implementation) attached to ServerAppIo `port`. */
function serverAppPids(port: number): number[] {
  try {
    return execFileSync("pgrep", [
      "-f",
      `flwr-serverapp.*--serverappio-api-address 127.0.0.1:${port}`,
    ])
      .toString()
      .trim()
      .split("\n")
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/**
 * A run that cannot finish on its own (no SuperNode: FedAvg waits for nodes) is stopped with the
 * OTHER implementation's `flwr stop`: both `flwr ls` show `finished:stopped` and the ServerApp
 * process (the app's implementation, launched by its SuperExec) notices and exits.
 */
async function stopScenario(sc: { name: string; superlink: Impl; app: Impl }): Promise<void> {
  const { s, procs } = await startSuperLink(sc.name, sc.superlink, 0);
  try {
    procs[`superexec serverapp (${sc.app})`] = superexec(
      sc.app,
      "serverapp",
      s.ports.serverappio,
      s,
    );
    const pyApp = join(import.meta.dirname, "fixtures/python-numpy-app");
    const r =
      sc.app === "py"
        ? await pyFlwr(s, ["run", pyApp, "e2e", "--format", "json"])
        : await tsFlwr(s, ["run", s.tsApp, "my-federation", "--format", "json"]);
    expect(r.code, r.output).toBe(0);
    const runId = String(
      (JSON.parse(r.output.slice(r.output.indexOf("{"))) as { "run-id": string })["run-id"],
    );
    // Running, and its ServerApp process is up and waiting for SuperNodes.
    const listed = await waitListed(
      s,
      runId,
      (status) => status === "running" && serverAppPids(s.ports.serverappio).length > 0,
    );
    expect(listed.py?.status, dump(procs)).toBe("running");
    expect(listed.ts?.status).toBe("running");

    const stop =
      sc.app === "py"
        ? await tsFlwr(s, ["stop", runId, s.tsApp, "my-federation"])
        : await pyFlwr(s, ["stop", runId, "e2e"]);
    expect(stop.code, stop.output).toBe(0);
    expect(stop.output).toContain(`Run ${runId} successfully stopped`);
    const stoppedAt = performance.now();
    const [stopped, exitMs] = await Promise.all([
      waitFinished(s, runId),
      (async () => {
        const exitBy = Date.now() + 60_000;
        while (Date.now() < exitBy && serverAppPids(s.ports.serverappio).length > 0)
          await new Promise((res) => setTimeout(res, 100));
        return performance.now() - stoppedAt;
      })(),
    ]);
    expect(stopped.py?.status, dump(procs)).toBe("finished:stopped");
    expect(stopped.ts?.status).toBe("finished:stopped");
    expect(serverAppPids(s.ports.serverappio), dump(procs)).toEqual([]);
    process.stdout.write(
      `${sc.name}: ${sc.app} ServerApp exited ${exitMs.toFixed(0)} ms after \`flwr stop\` returned\n`,
    );
  } finally {
    await Promise.all(Object.values(procs).map((p) => p.stop("SIGTERM", 5000)));
    rmSync(s.dir, { recursive: true, force: true });
  }
}

// The scenarios share nothing (own ports, certificates, $FLWR_HOME) and mostly wait on
// Python's 3 s polls and process starts, so they run side by side.
describe.skipIf(!pythonFlwrAvailable)(
  `runs across flwr-ts and Python flwr ${pythonFlwrProblem ?? ""}`,
  () => {
    afterAll(async () => {
      await stopAll();
    });

    // Python SuperNodes poll every 3 s and start a Python process per message: 2 rounds there.
    test.concurrent(
      "(a) Python `flwr run` of a NumPy app completes on OUR SuperLink with Python SuperNodes and SuperExecs (+ our SuperNode served by a Python SuperExec)",
      () =>
        runScenario({
          name: "a",
          superlink: "ts",
          app: "py",
          supernodes: [
            { node: "py", clientapp: "py" },
            { node: "py", clientapp: "py" },
            { node: "ts", clientapp: "py" },
          ],
          rounds: 2,
        }),
      300_000,
    );

    test.concurrent(
      "(b) our `flwr run` of the TS app completes on a Python SuperLink with our SuperNodes and SuperExecs (+ a Python SuperNode served by our SuperExec)",
      () =>
        runScenario({
          name: "b",
          superlink: "py",
          app: "ts",
          supernodes: [
            { node: "ts", clientapp: "own" },
            { node: "ts", clientapp: "own" },
            { node: "py", clientapp: "ts" },
          ],
          rounds: 3,
        }),
      300_000,
    );

    test.concurrent(
      "our `flwr stop` stops a Python ServerApp's run on OUR SuperLink; the Python ServerApp exits",
      () => stopScenario({ name: "stop-ts", superlink: "ts", app: "py" }),
      240_000,
    );

    test.concurrent(
      "Python `flwr stop` stops our ServerApp's run on a Python SuperLink; our ServerApp exits",
      () => stopScenario({ name: "stop-py", superlink: "py", app: "ts" }),
      240_000,
    );
  },
);
