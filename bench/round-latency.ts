/**
 * Round latency of a real deployment: a flwr-ts SuperLink and two SuperNodes (separate
 * processes, TLS + SuperNode authentication, subprocess isolation), a no-op ClientApp, FedAvg for
 * N rounds. Each round's wall time is taken from timestamps the ServerApp logs (streamed back
 * with `flwr run --stream`); the first round (cold ClientApp processes) is reported apart.
 *
 *   npx tsx bench/round-latency.ts [rounds=30]
 *
 * Requires `pnpm build`.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDeployment } from "../e2e/fixtures/deployment.js";
import { stopAll } from "../e2e/support/processes.js";

const rounds = Number(process.argv[2] ?? 30);

function noopApp(): string {
  const dir = mkdtempSync(join(tmpdir(), "flwr-ts-noop-app-"));
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({
      name: "noop-app",
      version: "1.0.0",
      type: "module",
      flwr: {
        app: {
          publisher: "bench",
          components: { serverapp: "server_app.ts:app", clientapp: "client_app.ts:app" },
          config: { "num-server-rounds": 3 },
        },
        federations: { default: "x", x: { address: "127.0.0.1:1", insecure: true } },
      },
    }),
  );
  writeFileSync(
    join(dir, "client_app.ts"),
    `import { ArrayRecord, ClientApp, Message, MetricRecord, RecordDict } from "@flwr-ts/core";
export const app = new ClientApp();
app.train()(async (msg) => new Message(new RecordDict({ arrays: msg.content.arrayRecords.get("arrays") ?? new ArrayRecord(), metrics: new MetricRecord({ "num-examples": 1n }) }), { replyTo: msg }));
app.evaluate()(async (msg) => new Message(new RecordDict({ metrics: new MetricRecord({ "num-examples": 1n, loss: 0 }) }), { replyTo: msg }));
`,
  );
  writeFileSync(
    join(dir, "server_app.ts"),
    `import { ArrayRecord, FedAvg, NdArray, ServerApp } from "@flwr-ts/core";
export const app = new ServerApp();
app.main()(async (grid, context) => {
  const numRounds = Number(context.runConfig["num-server-rounds"]);
  let last = performance.now();
  await new FedAvg().start({
    grid,
    numRounds,
    initialArrays: new ArrayRecord({ w: NdArray.fromTypedArray(new Float32Array(10)) }),
    evaluateFn: (round) => {
      const now = performance.now();
      if (round > 0) console.log("ROUND_MS " + round + " " + (now - last).toFixed(2));
      last = now;
      return undefined;
    },
  });
});
`,
  );
  return dir;
}

function stats(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))]!;
  return { median: q(0.5), p90: q(0.9), min: s[0]!, max: s[s.length - 1]! };
}

const deployment = await startDeployment({ app: noopApp() });
try {
  const r = await deployment.flwr(
    [
      "run",
      deployment.appDir,
      "my-federation",
      "--stream",
      "--run-config",
      `num-server-rounds=${rounds}`,
    ],
    600_000,
  );
  const times = [...r.output.matchAll(/ROUND_MS (\d+) ([\d.]+)/g)].map((m) => Number(m[2]));
  if (times.length !== rounds) {
    console.error(r.output);
    throw new Error(`expected ${rounds} round timings, got ${times.length}`);
  }
  const warm = stats(times.slice(1));
  console.log(
    `flwr-ts round latency (2 SuperNodes, TLS + auth, no-op ClientApp, FedAvg train+evaluate):`,
  );
  console.log(`  first round (cold ClientApp processes): ${times[0]!.toFixed(1)} ms`);
  console.log(
    `  rounds 2..${rounds}: median ${warm.median.toFixed(1)} ms, p90 ${warm.p90.toFixed(1)} ms, min ${warm.min.toFixed(1)} ms, max ${warm.max.toFixed(1)} ms`,
  );
} finally {
  await deployment.stop();
  await stopAll();
}
