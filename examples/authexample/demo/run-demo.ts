/**
 * `pnpm demo`: the seed's user journey (README of Flower's authentication example) in one
 * command, with the flwr-ts command-line tools as a user would type them:
 *
 * 1. `flwr-ts gen-certs`, `flwr-ts gen-keys` (kept when present);
 * 2. `flwr-ts-prepare-dataset` (CIFAR-10 when reachable, else the synthetic stand-in);
 * 3. `flower-superlink` with TLS and `--enable-supernode-auth` (SQLite database in `.demo/`);
 * 4. `flwr supernode register` for both keys, `flwr supernode list`;
 * 5. two `flower-supernode`s (until `flwr supernode list` shows both online);
 * 6. `flwr run . my-federation --stream`, per-round loss and accuracy highlighted;
 * 7. a chart of the per-round metrics (`outputs/run-<id>/chart.html`);
 *
 * and every process stopped at the end, on failure and on Ctrl-C.
 */
import { existsSync, readFileSync } from "node:fs";
import { cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join, relative, resolve } from "node:path";
import type { RunMetrics } from "../authexample/final-model.js";
import type { DemoOptions } from "./args.js";
import { chartHtml } from "./chart.js";
import { preparedState, probeCifar10 } from "./dataset-source.js";
import {
  type Child,
  ChildProcessError,
  groupAlive,
  ProcessGroup,
  runToCompletion,
} from "./processes.js";

/** Where the demo runs and how it prints. */
export interface DemoEnvironment {
  /** Repository root (for the built CLIs). */
  repoRoot: string;
  /** The example app directory (`examples/authexample`). */
  appDir: string;
  /** Prints one line. */
  print: (line: string) => void;
  /** Color output. */
  color: boolean;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
}

/** What a finished demo produced. */
export interface DemoResult {
  /** The run id. */
  runId: string;
  /** Per-round metrics as saved by the ServerApp. */
  metrics: RunMetrics;
  /** Evaluate accuracy after the last round. */
  finalAccuracy: number | undefined;
  /** Absolute path of the chart. */
  chartPath: string;
  /** Absolute path of the final model. */
  modelPath: string;
  /** True when the synthetic stand-in was used. */
  synthetic: boolean;
  /** Wall time of the whole demo in seconds. */
  durationSeconds: number;
  /** Wall time of `flwr run` in seconds. */
  runSeconds: number;
}

/** The demo was interrupted (Ctrl-C). */
export class DemoInterrupted extends Error {
  constructor() {
    super("interrupted");
    this.name = "DemoInterrupted";
  }
}

/** A demo step failed; the message says what and what to do. */
export class DemoError extends Error {
  /** @param message - what failed and what to do. */
  constructor(message: string) {
    super(message);
    this.name = "DemoError";
  }
}

/** Absolute path of a bin of a workspace package, from its package.json `bin`. */
function binPath(repoRoot: string, pkgDir: string, bin: string): string {
  const pkg = JSON.parse(readFileSync(join(repoRoot, pkgDir, "package.json"), "utf8")) as {
    bin?: Record<string, string>;
  };
  const rel = pkg.bin?.[bin];
  if (rel === undefined) throw new DemoError(`${pkgDir} has no bin "${bin}"`);
  const path = join(repoRoot, pkgDir, rel);
  if (!existsSync(path)) {
    throw new DemoError(`${relative(repoRoot, path)} does not exist: run \`pnpm build\` first`);
  }
  return path;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "0.0.0.0", () => server.close(() => resolve(true)));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}

const METRIC = /'(train_loss|eval_loss|eval_acc)': ([-+0-9.eE]+|nan|inf)/g;

/** Runs the demo; see the module documentation. Stops every process before returning. */
export async function runDemo(options: DemoOptions, env: DemoEnvironment): Promise<DemoResult> {
  const started = performance.now();
  const { repoRoot, appDir, print } = env;
  const bold = (s: string) => (env.color ? `\x1b[1m${s}\x1b[0m` : s);
  const say = (line: string) => print(`${bold("[demo]")} ${line}`);
  const step = (title: string) => print(`\n${bold(`== ${title}`)}`);
  const group = new ProcessGroup(print, env.color);
  const demoDir = join(appDir, ".demo");
  const node = process.execPath;
  const bins = {
    flwrTs: binPath(repoRoot, "packages/flwr-crypto", "flwr-ts"),
    prepare: binPath(repoRoot, "packages/flwr-ml", "flwr-ts-prepare-dataset"),
    flwr: binPath(repoRoot, "packages/flwr-transport", "flwr"),
    superlink: binPath(repoRoot, "packages/flwr-transport", "flower-superlink"),
    supernode: binPath(repoRoot, "packages/flwr-transport", "flower-supernode"),
  };
  const ports = {
    serverappio: options.basePort,
    fleet: options.basePort + 1,
    control: options.basePort + 2,
    clientappio: [options.basePort + 3, options.basePort + 4],
    /** Flower 1.40+'s HTTP API (Fleet, Control): Flower's 8000, or the next port of the range. */
    http: options.basePort === 9091 ? 8000 : options.basePort + 5,
  };
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    FLWR_HOME: join(demoDir, "flwr-home"),
    FORCE_COLOR: "0",
  };

  // Failures of long-running children and Ctrl-C end whatever step is waiting.
  let stopping = false;
  let failWith: ((error: Error) => void) | undefined;
  const failure = new Promise<never>((_, reject) => {
    failWith = reject;
  });
  failure.catch(() => {});
  const onAbort = () => failWith?.(new DemoInterrupted());
  if (env.signal.aborted) onAbort();
  env.signal.addEventListener("abort", onAbort, { once: true });
  const guard = <T>(promise: Promise<T>): Promise<T> => Promise.race([promise, failure]);
  // Last resort if this process exits without reaching `finally` (e.g. process.exit elsewhere).
  const killOnExit = () => group.killAllNow();
  process.once("exit", killOnExit);
  const watch = (child: Child) => {
    void child.exited.then((status) => {
      if (stopping) return;
      const tail = child.output().slice(-5).join("\n    ");
      failWith?.(
        new ChildProcessError(
          child.name,
          `${child.name} exited unexpectedly (${status}); its last lines:\n    ${tail}`,
        ),
      );
    });
  };
  const show = (name: string, args: readonly string[]) =>
    say(`$ ${[name, ...args].map(quote).join(" ")}`);
  const cli = async (name: string, bin: string, args: readonly string[], display = name) => {
    show(display, args);
    return guard(
      runToCompletion(group, {
        name,
        command: node,
        args: [bin, ...args],
        cwd: appDir,
        env: childEnv,
      }),
    );
  };

  try {
    // 0. Ports and state
    for (const port of [
      ports.serverappio,
      ports.fleet,
      ports.control,
      ...ports.clientappio,
      ports.http,
    ]) {
      if (!(await portFree(port))) {
        throw new DemoError(
          `port ${port} is in use (another SuperLink or SuperNode?): stop it, or run the demo on other ports with --base-port <p>`,
        );
      }
    }
    await rm(demoDir, { recursive: true, force: true });
    await mkdir(demoDir, { recursive: true });

    // The federation the flwr CLI talks to: the app's own on the seed's ports, else a copy
    // of the app whose my-federation points at the chosen Control API port.
    let appArg = ".";
    if (options.basePort !== 9091) {
      const copy = join(demoDir, "app");
      await mkdir(copy, { recursive: true });
      const pkg = JSON.parse(await readFile(join(appDir, "package.json"), "utf8"));
      pkg.flwr.federations["my-federation"] = {
        address: `127.0.0.1:${ports.control}`,
        "root-certificates": relative(copy, join(appDir, "certificates/ca.crt")),
      };
      delete pkg.flwr.app["fab-exclude"];
      await writeFile(join(copy, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`);
      await cp(join(appDir, "authexample"), join(copy, "authexample"), { recursive: true });
      appArg = relative(appDir, copy);
      say(
        `using ports ${ports.serverappio}-${ports.serverappio + 4}: the flwr CLI uses ${appArg}/package.json, a copy of the app whose my-federation points at 127.0.0.1:${ports.control}`,
      );
    }

    // 1. Certificates and keys
    step("1/7 TLS certificates and SuperNode keys");
    const certs = ["ca.crt", "server.pem", "server.key"].map((f) =>
      join(appDir, "certificates", f),
    );
    if (certs.every((f) => existsSync(f))) say("certificates/ exists: using it");
    else await cli("flwr-ts", bins.flwrTs, ["gen-certs", "--force"]);
    const keys = [1, 2].flatMap((i) => [
      join(appDir, "keys", `client_credentials_${i}`),
      join(appDir, "keys", `client_credentials_${i}.pub`),
    ]);
    if (keys.every((f) => existsSync(f))) say("keys/ holds both key pairs: using them");
    else await cli("flwr-ts", bins.flwrTs, ["gen-keys", "2", "--force"]);

    // 2. Dataset
    step("2/7 Dataset");
    const datasetsDir = join(appDir, options.datasets);
    const outArgs = options.datasets === "datasets" ? [] : ["--out", options.datasets];
    const state = await preparedState(datasetsDir);
    let synthetic = options.synthetic;
    if (!synthetic && state.kind !== "real") {
      const cached = existsSync(join(datasetsDir, "cifar-10-binary.tar.gz"));
      const unreachable = cached ? undefined : await guard(probeCifar10(5000));
      if (unreachable !== undefined) {
        synthetic = true;
        print("");
        say(bold("NOTICE: CIFAR-10 cannot be downloaded here"));
        say(`        (${unreachable}); using the SYNTHETIC stand-in instead.`);
        say("        Its accuracy says nothing about CIFAR-10. For the real dataset, run");
        say(
          "        `pnpm prepare-dataset --from <cifar-10-binary.tar.gz>` in examples/authexample.",
        );
        print("");
      }
    }
    if (!synthetic) {
      if (state.kind === "real") say("datasets/ holds the CIFAR-10 partitions: using them");
      else await cli("prepare-dataset", bins.prepare, outArgs, "flwr-ts-prepare-dataset");
    } else if (state.kind === "synthetic" && state.samples === options.samples) {
      say(`datasets/ holds the synthetic stand-in (${state.samples} images): using it`);
    } else {
      await cli(
        "prepare-dataset",
        bins.prepare,
        [...outArgs, "--synthetic", "--samples", String(options.samples)],
        "flwr-ts-prepare-dataset",
      );
    }
    if (synthetic) say(bold("NOTICE: training on the SYNTHETIC stand-in for CIFAR-10"));

    // 3. SuperLink
    step("3/7 SuperLink with TLS and SuperNode authentication");
    const superlinkArgs = [
      "--ssl-ca-certfile",
      "certificates/ca.crt",
      "--ssl-certfile",
      "certificates/server.pem",
      "--ssl-keyfile",
      "certificates/server.key",
      "--enable-supernode-auth",
      "--database",
      ".demo/superlink.db",
      "--storage-dir",
      ".demo/ffs",
      ...(options.basePort === 9091
        ? []
        : [
            "--port",
            String(ports.http),
            "--serverappio-api-address",
            `0.0.0.0:${ports.serverappio}`,
            "--fleet-api-address",
            `0.0.0.0:${ports.fleet}`,
            "--control-api-address",
            `0.0.0.0:${ports.control}`,
          ]),
    ];
    show("flower-superlink", superlinkArgs);
    const superlink = group.start({
      name: "superlink",
      command: node,
      args: [bins.superlink, ...superlinkArgs],
      cwd: appDir,
      env: childEnv,
    });
    say(`superlink started (pid ${superlink.pid})`);
    watch(superlink);
    await guard(superlink.waitForLine(/Starting Control API/, 30_000));
    await guard(superlink.waitForLine(/Starting ServerAppIo API/, 30_000));

    // 4. Registration
    step("4/7 Register both SuperNodes");
    const flwr = (args: readonly string[], quiet = false) => {
      show("flwr", args);
      return guard(
        runToCompletion(group, {
          name: "flwr",
          command: node,
          args: [bins.flwr, ...args],
          cwd: appDir,
          env: childEnv,
          quiet,
        }),
      );
    };
    for (const i of [1, 2]) {
      await flwr([
        "supernode",
        "register",
        `keys/client_credentials_${i}.pub`,
        appArg,
        "my-federation",
      ]);
    }
    await flwr(["supernode", "list", appArg, "my-federation"]);

    // 5. SuperNodes
    step("5/7 Two SuperNodes");
    for (const i of [1, 2]) {
      const args = [
        "--root-certificates",
        "certificates/ca.crt",
        "--auth-supernode-private-key",
        `keys/client_credentials_${i}`,
        "--superlink",
        `127.0.0.1:${ports.fleet}`,
        "--node-config",
        `dataset-path="${options.datasets}/cifar10_part_${i}"`,
        "--clientappio-api-address",
        `0.0.0.0:${ports.clientappio[i - 1]}`,
      ];
      show("flower-supernode", args);
      const supernode = group.start({
        name: `supernode-${i}`,
        command: node,
        args: [bins.supernode, ...args],
        cwd: appDir,
        env: childEnv,
      });
      say(`supernode-${i} started (pid ${supernode.pid})`);
      watch(supernode);
    }
    const onlineDeadline = Date.now() + 60_000;
    for (;;) {
      const lines = await runToCompletion(group, {
        name: "flwr",
        command: node,
        args: [bins.flwr, "supernode", "list", appArg, "my-federation", "--format", "json"],
        cwd: appDir,
        env: childEnv,
        quiet: true,
      });
      const json = lines.join("\n");
      const doc = JSON.parse(json.slice(json.indexOf("{"))) as { nodes?: { status?: string }[] };
      const online = (doc.nodes ?? []).filter((n) => n.status === "online").length;
      if (online >= 2) break;
      if (Date.now() > onlineDeadline) {
        throw new DemoError(
          `only ${online} of 2 SuperNodes came online within 60 s; see the [supernode-*] lines above`,
        );
      }
      await guard(sleep(1000));
    }
    await flwr(["supernode", "list", appArg, "my-federation"]);

    // 6. Run
    step("6/7 Run the Flower App");
    const runArgs = ["run", appArg, "my-federation", "--stream"];
    // A float must be written as one in TOML (0.02, 1.0), never as an integer.
    const lr = Number.isInteger(options.learningRate)
      ? options.learningRate.toFixed(1)
      : String(options.learningRate);
    const overrides: string[] = [`learning-rate=${lr}`];
    if (options.rounds !== undefined) overrides.push(`num-server-rounds=${options.rounds}`);
    if (options.localEpochs !== undefined) overrides.push(`local-epochs=${options.localEpochs}`);
    if (overrides.length > 0) runArgs.push("--run-config", overrides.join(" "));
    show("flwr", runArgs);
    let round = 0;
    let runId: string | undefined;
    const runStarted = performance.now();
    const run = group.start({
      name: "flwr run",
      command: node,
      args: [bins.flwr, ...runArgs],
      cwd: appDir,
      env: childEnv,
      onLine: (line) => {
        const started = line.match(/Successfully started run (\d+)/);
        if (started) runId = started[1];
        const r = line.match(/\[ROUND (\d+)\/(\d+)\]/);
        if (r) round = Number(r[1]);
        if (line.includes("Aggregated MetricRecord")) {
          const parts = [...line.matchAll(METRIC)].map(
            ([, k, v]) => `${k} ${Number(v).toFixed(4)}`,
          );
          if (parts.length > 0) say(bold(`round ${round}: ${parts.join(", ")}`));
        }
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new DemoError(
              `the run did not finish within ${options.timeoutSeconds} s (--timeout); see the lines above`,
            ),
          ),
        options.timeoutSeconds * 1000,
      );
    });
    const status = await guard(Promise.race([run.exited, timeout])).finally(() =>
      clearTimeout(timer),
    );
    const runSeconds = (performance.now() - runStarted) / 1000;
    if (status !== 0) {
      throw new DemoError(`flwr run failed (${status}); see the [flwr run] lines above`);
    }
    if (runId === undefined) throw new DemoError("flwr run did not report a run id");

    // 7. Results and chart
    step("7/7 Results");
    const outDir = join(appDir, "outputs", `run-${runId}`);
    const metricsPath = join(outDir, "metrics.json");
    const modelPath = join(outDir, "final_model.npz");
    let metrics: RunMetrics;
    try {
      metrics = JSON.parse(await readFile(metricsPath, "utf8")) as RunMetrics;
    } catch {
      throw new DemoError(
        `the run finished but ${relative(process.cwd(), metricsPath)} was not written: the ServerApp failed; see the [flwr run] and [superlink] lines above`,
      );
    }
    if (!existsSync(modelPath)) throw new DemoError(`${modelPath} was not written`);
    const last = metrics.rounds.at(-1);
    const acc = last?.evaluate?.["eval_acc"];
    const finalAccuracy = typeof acc === "number" ? acc : undefined;
    const chartPath = join(outDir, "chart.html");
    const durationSeconds = (performance.now() - started) / 1000;
    await writeFile(
      chartPath,
      chartHtml(metrics, {
        title: `flwr-ts authexample — run ${runId}`,
        notes: [
          synthetic
            ? "Dataset: SYNTHETIC stand-in for CIFAR-10 (offline mode) — says nothing about CIFAR-10."
            : "Dataset: CIFAR-10, 2 IID partitions (80% train / 20% test each).",
          `2 SuperNodes over TLS with SuperNode authentication; FedAvg, ${metrics.rounds.length} rounds.`,
          `Run time ${runSeconds.toFixed(1)} s; whole demo ${durationSeconds.toFixed(1)} s.`,
        ],
      }),
    );
    let diverged = false;
    for (const r of metrics.rounds) {
      const f = (v: unknown) => {
        if (v === null) diverged = true;
        return typeof v === "number" ? v.toFixed(4) : v === null ? "NaN" : "–";
      };
      say(
        `round ${r.round}: train_loss ${f(r.train?.["train_loss"])}  eval_loss ${f(r.evaluate?.["eval_loss"])}  eval_acc ${f(r.evaluate?.["eval_acc"])}`,
      );
    }
    if (diverged) {
      say(
        bold(
          `WARNING: training diverged (NaN loss) with learning-rate ${lr}; try a smaller one, e.g. --learning-rate ${options.learningRate / 5}`,
        ),
      );
    }
    return {
      runId,
      metrics,
      finalAccuracy,
      chartPath: resolve(chartPath),
      modelPath: resolve(modelPath),
      synthetic,
      durationSeconds,
      runSeconds,
    };
  } finally {
    stopping = true;
    env.signal.removeEventListener("abort", onAbort);
    const live = group
      .list()
      .filter((c) => c.process.exitCode === null && c.process.signalCode === null);
    if (live.length > 0) say(`stopping ${live.map((c) => `${c.name} (pid ${c.pid})`).join(", ")}`);
    await group.stopAll();
    process.removeListener("exit", killOnExit);
    const left = group.list().filter((c) => groupAlive(c.pid));
    if (left.length > 0) {
      say(`WARNING: could not stop ${left.map((c) => `${c.name} (pid ${c.pid})`).join(", ")}`);
    } else {
      say(
        `all processes stopped (process groups ${group
          .list()
          .map((c) => c.pid)
          .join(" ")})`,
      );
    }
    if (!options.keep) await rm(demoDir, { recursive: true, force: true });
    else say(`state kept in ${relative(process.cwd(), demoDir) || demoDir} (--keep)`);
  }
}
