/**
 * The operations flags of issue #12 on real processes (TLS + SuperNode authentication): a
 * SuperLink with `--log-format json --metrics-address --health-server-address`, two SuperNodes
 * with `--log-format json --health-server-address`, and a 2-round `flwr run --stream`:
 * - every line either process writes is one JSON object (time, level, component, message);
 * - Flower's separate plaintext health servers answer SERVING;
 * - `/metrics` counts the SuperNodes online, the Fleet calls by method and code, each message
 *   exchange and each round (FedAvg: one train and one evaluate per round), and refusals.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { generateAuthKeys } from "../packages/flwr-crypto/src/index.js";
import { ServingStatus } from "../packages/flwr-transport/src/grpc/health-service.js";
import { healthCheck } from "../packages/flwr-transport/test/health-client.js";
import { type Deployment, startDeployment } from "./fixtures/deployment.js";
import { freePort } from "./support/ports.js";
import { cliPath, start, stopAll } from "./support/processes.js";

let deployment: Deployment;
const ports = { metrics: 0, health: 0, node0Health: 0, node1Health: 0 };
let jsonNode: ReturnType<typeof start> | undefined;

beforeAll(async () => {
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  deployment = await startDeployment({
    supernodes: 2,
    superlinkArgs: [
      "--log-format",
      "json",
      "--metrics-address",
      `127.0.0.1:${ports.metrics}`,
      "--health-server-address",
      `127.0.0.1:${ports.health}`,
    ],
    extraSupernodeArgs: (i) => [
      "--log-format",
      "json",
      "--health-server-address",
      `127.0.0.1:${i === 0 ? ports.node0Health : ports.node1Health}`,
    ],
  });
}, 120_000);

afterAll(async () => {
  await jsonNode?.stop("SIGTERM", 5000);
  await deployment?.stop();
  await stopAll();
});

async function scrape(): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${ports.metrics}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** The sum of the samples of `name` whose labels include `labels`. */
function total(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum += Number(m[3]);
  }
  return sum;
}

/** Every non-empty line of `output` parsed as a JSON log line. */
function jsonLines(
  output: string,
): { time: string; level: string; component: string; message: string }[] {
  return output
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      try {
        return JSON.parse(line);
      } catch {
        throw new Error(`not a JSON log line: ${line}`);
      }
    });
}

describe("operations: JSON logs, health servers, Prometheus metrics", () => {
  test("a 2-round run is counted: nodes, Fleet calls, exchanges, rounds", async () => {
    const before = await scrape();
    expect(total(before, "flwr_supernodes", { status: "online" })).toBe(2);
    expect(
      total(before, "flwr_rpc_calls_total", {
        method: "ActivateNode",
        code: "OK",
        protocol: "grpc",
      }),
    ).toBeGreaterThanOrEqual(2);

    const run = await deployment.flwr(
      [
        "run",
        deployment.appDir,
        "my-federation",
        "--stream",
        "--run-config",
        "num-server-rounds=2",
      ],
      120_000,
    );
    expect(run.code, run.output).toBe(0);
    // The run's own log (the ServerApp's output, `flwr log`) stays in Flower's text format.
    expect(run.output).toMatch(/INFO : +\[ROUND 2\/2\]/);
    expect(run.output).not.toContain('"component"');

    const after = await scrape();
    // FedAvg on the linear app: train and evaluate on both nodes in each of 2 rounds.
    expect(total(after, "flwr_message_exchange_seconds_count", { message_type: "train" })).toBe(4);
    expect(total(after, "flwr_message_exchange_seconds_count", { message_type: "evaluate" })).toBe(
      4,
    );
    expect(total(after, "flwr_round_seconds_count", { message_type: "train" })).toBe(2);
    expect(total(after, "flwr_round_seconds_count", { message_type: "evaluate" })).toBe(2);
    expect(total(after, "flwr_round_seconds_sum")).toBeGreaterThan(0);
    expect(
      total(after, "flwr_rpc_calls_total", { method: "PushMessages", code: "OK" }),
    ).toBeGreaterThanOrEqual(8);
    expect(total(after, "flwr_runs", { status: "finished:completed" })).toBe(1);
    expect(
      total(after, "flwr_rpc_calls_total", { service: "flwr.proto.ServerAppIo" }),
    ).toBeGreaterThan(0);
  }, 150_000);

  test("an unregistered SuperNode's refusal is counted as an error", async () => {
    const refused = { method: "ActivateNode", code: "FAILED_PRECONDITION" };
    const before = total(await scrape(), "flwr_rpc_calls_total", refused);
    // A SuperNode whose key is not registered: refused, and it says so in JSON.
    const [key] = generateAuthKeys({ outDir: join(deployment.dir, "stranger"), count: 1 });
    jsonNode = start(cliPath("flower-supernode"), [
      "--superlink",
      `127.0.0.1:${deployment.ports.fleet}`,
      "--root-certificates",
      join(deployment.dir, "certificates", "ca.crt"),
      "--auth-supernode-private-key",
      key!.privateKeyPath,
      "--clientappio-api-address",
      `127.0.0.1:${await freePort()}`,
      "--log-format",
      "json",
      "--max-retries",
      "0",
    ]);
    const code = await jsonNode.exited();
    expect(code).not.toBe(0);
    const lines = jsonLines(jsonNode.output());
    expect(
      lines.every((l) => l.component === "flower-supernode" && typeof l.time === "string"),
    ).toBe(true);
    expect(lines.at(-1)?.message).toMatch(/not registered|no SuperNode/i);
    expect(lines.at(-1)?.level).toBe("ERROR");
    expect(total(await scrape(), "flwr_rpc_calls_total", refused)).toBe(before + 1);
  }, 60_000);

  test("Flower's separate plaintext health servers answer SERVING", async () => {
    const target = { address: `127.0.0.1:${ports.health}` };
    expect(await healthCheck(target, "")).toBe(ServingStatus.SERVING);
    expect(await healthCheck(target, "flwr.proto.Fleet")).toBe(ServingStatus.SERVING);
    expect(await healthCheck(target, "flwr.proto.Control")).toBe(ServingStatus.SERVING);
    for (const port of [ports.node0Health, ports.node1Health]) {
      const node = { address: `127.0.0.1:${port}` };
      expect(await healthCheck(node, "")).toBe(ServingStatus.SERVING);
      expect(await healthCheck(node, "flwr.proto.ClientAppIo")).toBe(ServingStatus.SERVING);
    }
  });

  test("a SuperLink that cannot start says why in JSON too", async () => {
    // The Fleet port is the running SuperLink's: Flower's one line, as a JSON ERROR line.
    const second = start(cliPath("flower-superlink"), [
      "--insecure",
      "--log-format",
      "json",
      "--fleet-api-address",
      `127.0.0.1:${deployment.ports.fleet}`,
      "--control-api-address",
      `127.0.0.1:${await freePort()}`,
      "--serverappio-api-address",
      `127.0.0.1:${await freePort()}`,
      "--no-http-api",
    ]);
    expect(await second.exited()).not.toBe(0);
    const lines = jsonLines(second.output());
    expect(lines.at(-1)).toMatchObject({
      level: "ERROR",
      message: `Port in server address 127.0.0.1:${deployment.ports.fleet} is already in use.`,
    });
  }, 30_000);

  test("every line the SuperLink and SuperNodes wrote is a JSON log line", () => {
    for (const node of deployment.supernodes) {
      const lines = jsonLines(node.output());
      // The node's own lines, and its SuperExec's and ClientApps'.
      const components = new Set(lines.map((l) => l.component));
      expect(components.has("flower-supernode")).toBe(true);
      for (const c of components)
        expect(["flower-supernode", "flower-superexec", "flwr-clientapp"]).toContain(c);
      expect(lines.map((l) => l.message)).toContain("Starting Flower SuperNode");
    }
    const lines = jsonLines(deployment.superlink.output());
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      expect(Object.keys(line).sort()).toEqual(["component", "level", "message", "time"]);
      expect(["flower-superlink", "flower-superexec"]).toContain(line.component);
      expect(["DEBUG", "INFO", "WARNING", "ERROR"]).toContain(line.level);
      expect(Number.isNaN(Date.parse(line.time))).toBe(false);
    }
    expect(lines.map((l) => l.message)).toContain("Starting Flower SuperLink");
    expect(
      lines.some((l) => l.message.includes("serving Prometheus metrics on http://127.0.0.1:")),
    ).toBe(true);
  });
});
