/**
 * Big-model transfer through real deployments, side by side in one run (issue #17 part 2). Each
 * row is a SuperLink and two SuperNodes (separate processes, TLS + SuperNode authentication with
 * P-384 keys, subprocess isolation): the ServerApp sends one `--mb` MiB float32 ArrayRecord (one
 * array; 100 MiB = 25M parameters) to both nodes, each ClientApp echoes it back, `--rounds` times.
 *
 * | row      | deployment                                                          |
 * | -------- | ------------------------------------------------------------------- |
 * | `ts`     | flwr-ts SuperLink + SuperNodes, in-memory state (`e2e/fixtures/deployment.ts`) |
 * | `ts-sqlite` | the same with `--database <dir>/state.db` (SQLite LinkState and ObjectStore) |
 * | `py-1.29` | Python flwr 1.29 (`.venv`, `e2e/fixtures/python-deployment.ts`), the NumPy app `bench/python/transfer-app` |
 *
 * Figures per row (the best round after the first, which pays cold processes):
 * - **down MB/s**: 2 × model bytes / (last ClientApp's receive stamp − the ServerApp's send start):
 *   ServerApp → SuperLink → SuperNodes → ClientApps, including serialization and object pushes.
 * - **up MB/s**: 2 × model bytes / (the ServerApp holding both replies − the first ClientApp's
 *   reply stamp): ClientApps → SuperNodes → SuperLink → ServerApp.
 * - **peak RSS** (VmHWM) of the SuperLink, the larger SuperNode, the ServerApp and the larger
 *   ClientApp (the apps report their own; the bench reads the long-lived processes' /proc).
 * Every echo is checked (shape and 1,024 strided values); a wrong echo fails the row.
 *
 * The **ceiling** is raw TLS loopback measured in the same run: a `node:tls` client in this process
 * pumping the same number of bytes (64 KiB writes) to a `node:tls` server in a worker thread, with
 * the deployment's kind of certificates (P-256 key, TLS 1.3).
 *
 * Python Flower's figures include what its path really does: its Grid polls for replies every
 * 3 s, its SuperNode every 3 s when idle, and it starts a fresh ClientApp process per message.
 *
 *   npx tsx bench/model-transfer.ts [--mb 100] [--rounds 3] [--rows ts,ts-sqlite,py-1.29]
 *                                   [--no-python]
 *
 * `--mb 1024 --rows ts` is the 1 GB check. Requires `pnpm build`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { Worker } from "node:worker_threads";
import { generateCertificates } from "../packages/flwr-crypto/src/index.js";

const ROW_IDS = ["ts", "ts-sqlite", "py-1.29"] as const;

/** The TLS loopback ceiling's receiver (a worker thread): counts bytes, reports when done. */
const TLS_SINK = `
const { createServer } = require("node:tls");
const { parentPort, workerData } = require("node:worker_threads");
const { key, cert, total } = workerData;
const server = createServer({ key, cert }, (socket) => {
  let got = 0;
  socket.on("data", (chunk) => {
    got += chunk.length;
    if (got >= total) {
      parentPort.postMessage({ done: performance.timeOrigin + performance.now() });
      socket.end();
      server.close();
    }
  });
});
server.listen(0, "127.0.0.1", () => parentPort.postMessage({ port: server.address().port }));
`;

await main();

async function main(): Promise<void> {
  const { startDeployment } = await import("../e2e/fixtures/deployment.js");
  const { startPythonDeployment } = await import("../e2e/fixtures/python-deployment.js");
  const { stopAll } = await import("../e2e/support/processes.js");
  const { pythonFlwrAvailable, pythonFlwrProblem } = await import("../interop/python.js");

  const flagValue = (name: string): string | undefined =>
    process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined;
  const known = new Set(["--mb", "--rounds", "--rows", "--no-python"]);
  const unknown = process.argv
    .slice(2)
    .filter((a, i, all) => a.startsWith("--") && !known.has(a) && !known.has(all[i - 1] ?? ""));
  if (unknown.length > 0) {
    console.error(`unknown flag ${unknown[0]}; flags: --mb N --rounds N --rows LIST --no-python`);
    process.exit(2);
  }
  const mb = Number(flagValue("--mb") ?? 100);
  if (!Number.isFinite(mb) || mb <= 0 || mb > 4096) {
    console.error("--mb must be a number of MiB in (0, 4096]");
    process.exit(2);
  }
  const rounds = Number(flagValue("--rounds") ?? 3);
  if (!Number.isInteger(rounds) || rounds < 2 || rounds > 50) {
    console.error("--rounds must be an integer in [2, 50] (the first round is reported apart)");
    process.exit(2);
  }
  const requested = (flagValue("--rows") ?? ROW_IDS.join(",")).split(",").map((r) => r.trim());
  const bad = requested.filter((r) => !(ROW_IDS as readonly string[]).includes(r));
  if (bad.length > 0 || requested.length === 0) {
    console.error(`--rows takes a comma-separated list of ${ROW_IDS.join(", ")}`);
    process.exit(2);
  }
  const rows = ROW_IDS.filter((id) => requested.includes(id));
  const modelBytes = Math.floor((mb * 1024 * 1024) / 4) * 4;
  const MiB = 1024 * 1024;
  const loadNow = () =>
    `${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} (${cpus().length} cores)`;

  /** VmHWM of a live process, in kB (0 when it is gone). */
  const hwmKb = (pid: number | undefined): number => {
    if (pid === undefined) return 0;
    try {
      const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      return Number(m?.[1] ?? 0);
    } catch {
      return 0;
    }
  };

  /** One round's stamps, from the ServerApp's `XFER {json}` line. */
  interface Xfer {
    round: number;
    t0: number;
    t1: number;
    replies: { ok: boolean; recv?: number; sent?: number; hwm?: number; error?: string }[];
  }
  interface Row {
    impl: string;
    down: number;
    up: number;
    firstDown: number;
    firstUp: number;
    superlinkMb: number;
    supernodeMb: number;
    serverAppMb: number;
    clientAppMb: number;
    load: number;
  }

  /** Parses a run's XFER lines into the row's figures; throws on a failed or wrong echo. */
  function figures(
    output: string,
    what: string,
  ): Omit<Row, "impl" | "superlinkMb" | "supernodeMb" | "load"> {
    const xfers = [...output.matchAll(/XFER (\{.*\})/g)].map((m) => JSON.parse(m[1]!) as Xfer);
    if (xfers.length !== rounds)
      throw new Error(`${what}: expected ${rounds} XFER lines, got ${xfers.length}\n${output}`);
    const down: number[] = [];
    const up: number[] = [];
    let clientKb = 0;
    for (const x of xfers) {
      if (x.replies.length !== 2 || x.replies.some((r) => !r.ok))
        throw new Error(`${what}: round ${x.round}: bad replies ${JSON.stringify(x.replies)}`);
      const recv = Math.max(...x.replies.map((r) => r.recv!));
      const sent = Math.min(...x.replies.map((r) => r.sent!));
      down.push((2 * modelBytes) / MiB / ((recv - x.t0) / 1000));
      up.push((2 * modelBytes) / MiB / ((x.t1 - sent) / 1000));
      clientKb = Math.max(clientKb, ...x.replies.map((r) => r.hwm ?? 0));
    }
    const appKb = Number(/APP_HWM_KB (\d+)/.exec(output)?.[1] ?? 0);
    for (const x of xfers)
      console.log(
        `  round ${x.round}: down ${down[x.round - 1]!.toFixed(1)} MB/s, up ${up[x.round - 1]!.toFixed(1)} MB/s (send→all received ${(Math.max(...x.replies.map((r) => r.recv!)) - x.t0).toFixed(0)} ms, first reply→ServerApp ${(x.t1 - Math.min(...x.replies.map((r) => r.sent!))).toFixed(0)} ms)`,
      );
    return {
      down: Math.max(...down.slice(1)),
      up: Math.max(...up.slice(1)),
      firstDown: down[0]!,
      firstUp: up[0]!,
      serverAppMb: appKb / 1024,
      clientAppMb: clientKb / 1024,
    };
  }

  /** The flwr-ts app, written to a scratch directory. */
  function tsApp(): string {
    const dir = mkdtempSync(join(tmpdir(), "flwr-ts-transfer-app-"));
    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify({
        name: "transfer-app",
        version: "1.0.0",
        type: "module",
        flwr: {
          app: {
            publisher: "bench",
            components: { serverapp: "server_app.ts:app", clientapp: "client_app.ts:app" },
            config: { "model-mb": 100, rounds: 3 },
          },
          federations: { default: "x", x: { address: "127.0.0.1:1", insecure: true } },
        },
      }),
    );
    const hwm = `const hwmKb = () => Number(/VmHWM:\\s+(\\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0);
const now = () => performance.timeOrigin + performance.now();`;
    writeFileSync(
      join(dir, "client_app.ts"),
      `import { readFileSync } from "node:fs";
import { ArrayRecord, ClientApp, Message, MetricRecord, RecordDict } from "@flwr-ts/core";
${hwm}
export const app = new ClientApp();
app.train()(async (msg) => {
  const recv = now();
  const arrays = msg.content.arrayRecords.get("arrays") ?? new ArrayRecord();
  return new Message(new RecordDict({ arrays, metrics: new MetricRecord({ "recv-ms": recv, "hwm-kb": hwmKb(), "sent-ms": now() }) }), { replyTo: msg });
});
`,
    );
    writeFileSync(
      join(dir, "server_app.ts"),
      `import { readFileSync } from "node:fs";
import { ArrayRecord, Message, MessageType, NdArray, RecordDict, ServerApp } from "@flwr-ts/core";
${hwm}
export const app = new ServerApp();
app.main()(async (grid, context) => {
  const n = Math.floor((Number(context.runConfig["model-mb"]) * 1024 * 1024) / 4);
  const rounds = Number(context.runConfig["rounds"]);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = (i % 1000) * 0.001;
  const w = NdArray.fromTypedArray(values);
  const record = new ArrayRecord({ w });
  const stride = Math.max(1, Math.floor(w.data.length / 1024));
  const nodes = await grid.getNodeIds();
  for (let r = 1; r <= rounds; r++) {
    const t0 = now();
    const replies = await grid.sendAndReceive(nodes.map((id) => new Message(new RecordDict({ arrays: record }), id, MessageType.TRAIN)));
    const t1 = now();
    const out = replies.map((reply) => {
      if (reply.hasError()) return { ok: false, error: String(reply.error?.reason) };
      const echoed = [...reply.content.arrayRecords.get("arrays")!.values()][0]!;
      let ok = echoed.data.length === w.data.length && echoed.shape[0] === n;
      for (let i = 0; ok && i < w.data.length; i += stride) ok = echoed.data[i] === w.data[i];
      const m = reply.content.metricRecords.get("metrics")!;
      return { ok, recv: m.get("recv-ms"), sent: m.get("sent-ms"), hwm: m.get("hwm-kb") };
    });
    console.log("XFER " + JSON.stringify({ round: r, t0, t1, replies: out }));
  }
  console.log("APP_HWM_KB " + hwmKb());
});
`,
    );
    return dir;
  }

  const runConfig = ["--run-config", `model-mb=${mb} rounds=${rounds}`];

  async function measureTs(sqlite: boolean): Promise<Row> {
    const appDir = tsApp();
    const deployment = await startDeployment({ app: appDir, sqlite }).finally(() =>
      rmSync(appDir, { recursive: true, force: true }),
    );
    try {
      const r = await deployment.flwr(
        ["run", deployment.appDir, "my-federation", "--stream", ...runConfig],
        600_000 + rounds * mb * 2000,
      );
      console.log(
        `flwr-ts (${sqlite ? "SQLite" : "in-memory"} state), ${mb} MiB float32 ArrayRecord to 2 SuperNodes and back, TLS + auth:`,
      );
      const f = figures(r.output, "flwr-ts");
      return {
        impl: `flwr-ts${sqlite ? ", SQLite" : ""}`,
        ...f,
        superlinkMb: hwmKb(deployment.superlink.child.pid) / 1024,
        supernodeMb: Math.max(...deployment.supernodes.map((s) => hwmKb(s.child.pid))) / 1024,
        load: loadavg()[0]!,
      };
    } finally {
      await deployment.stop();
    }
  }

  async function measurePython(): Promise<Row> {
    const deployment = await startPythonDeployment({});
    try {
      const app = join(import.meta.dirname, "python/transfer-app");
      const r = await deployment.flwr(
        ["run", app, deployment.federation, "--stream", ...runConfig],
        600_000 + rounds * mb * 4000,
      );
      if (r.code !== 0) throw new Error(`Python \`flwr run\` exited with ${r.code}:\n${r.output}`);
      console.log(`Python Flower 1.29, same topology and model:`);
      const f = figures(r.output, "Python Flower");
      return {
        impl: "Python Flower 1.29",
        ...f,
        superlinkMb: hwmKb(deployment.superlink.child.pid) / 1024,
        supernodeMb: Math.max(...deployment.supernodes.map((s) => hwmKb(s.child.pid))) / 1024,
        load: loadavg()[0]!,
      };
    } finally {
      await deployment.stop();
    }
  }

  /** Raw TLS loopback: MB/s of `modelBytes` pumped from this thread to a worker's TLS server. */
  async function tlsCeiling(): Promise<number> {
    const dir = mkdtempSync(join(tmpdir(), "flwr-ts-tls-ceiling-"));
    try {
      const certs = (await generateCertificates({ outDir: dir })).paths;
      const key = readFileSync(certs.serverKey, "utf8");
      const cert = readFileSync(certs.serverCert, "utf8");
      const ca = readFileSync(certs.caCert, "utf8");
      const worker = new Worker(TLS_SINK, {
        eval: true,
        workerData: { key, cert, total: modelBytes },
      });
      const port = await new Promise<number>((resolve) =>
        worker.once("message", (m: { port: number }) => resolve(m.port)),
      );
      const done = new Promise<number>((resolve) =>
        worker.once("message", (m: { done: number }) => resolve(m.done)),
      );
      const socket = connect({ host: "127.0.0.1", port, ca, servername: "localhost" });
      await new Promise<void>((resolve, reject) => {
        socket.once("secureConnect", resolve);
        socket.once("error", reject);
      });
      const block = Buffer.alloc(64 * 1024, 7);
      const t0 = performance.timeOrigin + performance.now();
      let sent = 0;
      await new Promise<void>((resolve) => {
        const pump = () => {
          while (sent < modelBytes) {
            const n = Math.min(block.length, modelBytes - sent);
            sent += n;
            if (!socket.write(n === block.length ? block : block.subarray(0, n))) {
              socket.once("drain", pump);
              return;
            }
          }
          resolve();
        };
        pump();
      });
      const t1 = await done;
      socket.destroy();
      await worker.terminate();
      return modelBytes / MiB / ((t1 - t0) / 1000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  try {
    const results: Row[] = [];
    const ceilings: number[] = [];
    ceilings.push(await tlsCeiling());
    console.log(`raw TLS loopback (node:tls, ${mb} MiB): ${ceilings[0]!.toFixed(0)} MB/s`);
    for (const id of rows) {
      if (id === "py-1.29" && (process.argv.includes("--no-python") || !pythonFlwrAvailable)) {
        console.log(`  skipped py-1.29: ${pythonFlwrProblem ?? "--no-python"}`);
        continue;
      }
      try {
        results.push(
          id === "py-1.29" ? await measurePython() : await measureTs(id === "ts-sqlite"),
        );
        console.log(`  load average: ${loadNow()}`);
      } catch (error) {
        console.error(`${id} failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exitCode = 1;
      }
    }
    ceilings.push(await tlsCeiling());
    const ceiling = Math.max(...ceilings);
    console.log(
      `raw TLS loopback again: ${ceilings[1]!.toFixed(0)} MB/s (ceiling = best ${ceiling.toFixed(0)} MB/s)`,
    );
    const py = results.find((r) => r.impl.startsWith("Python"));
    const header = [
      "implementation",
      "down MB/s",
      "up MB/s",
      "1st down",
      "1st up",
      "vs TLS down/up",
      "vs Python down/up",
      "SuperLink MB",
      "SuperNode MB",
      "ServerApp MB",
      "ClientApp MB",
      "load 1m",
    ];
    const cells = results.map((r) => [
      r.impl,
      r.down.toFixed(1),
      r.up.toFixed(1),
      r.firstDown.toFixed(1),
      r.firstUp.toFixed(1),
      `${(ceiling / r.down).toFixed(1)}× / ${(ceiling / r.up).toFixed(1)}× slower`,
      py ? `${(r.down / py.down).toFixed(2)}× / ${(r.up / py.up).toFixed(2)}×` : "-",
      r.superlinkMb.toFixed(0),
      r.supernodeMb.toFixed(0),
      r.serverAppMb.toFixed(0),
      r.clientAppMb.toFixed(0),
      r.load.toFixed(2),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
    const line = (c: string[]) =>
      `  ${c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join("  ")}`;
    console.log(
      `\n${mb} MiB float32 ArrayRecord, ServerApp → 2 SuperNodes → back, TLS, best of rounds 2..${rounds} (MB = MiB; RSS = peak VmHWM; raw TLS loopback ${ceiling.toFixed(0)} MB/s):`,
    );
    console.log(line(header));
    for (const c of cells) console.log(line(c));
    for (const r of results.filter((x) => !x.impl.startsWith("Python")))
      console.log(
        `  goals (${r.impl}): ≥ 2× Python ${py ? (r.down / py.down >= 2 && r.up / py.up >= 2 ? "met" : "NOT met") : "n/a"}; within 2× of TLS ${ceiling / r.down <= 2 && ceiling / r.up <= 2 ? "met" : "NOT met"}; SuperLink peak RSS ≤ 2× model (${((2 * modelBytes) / MiB).toFixed(0)} MB) ${r.superlinkMb <= (2 * modelBytes) / MiB ? "met" : "NOT met"}`,
      );
    console.log(`  load average now: ${loadNow()}`);
  } finally {
    await stopAll();
  }
}
