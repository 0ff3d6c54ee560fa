/**
 * The wire fuzz (issue #12), bounded and seeded for CI: random, field-framed and mutated
 * protobuf bodies with random metadata to every rpc of Fleet, Control, ServerAppIo and
 * ClientAppIo over gRPC and to every HTTP route (Fleet, Control). Rules: no crash (the servers
 * run in this process), no UNKNOWN, INTERNAL only for bodies that do not deserialize, no HTTP 5xx,
 * every answer within 1 s (the hang guard: calls here take milliseconds, so 1 s only
 * fails on a hang or a blocked event loop), and RSS and open descriptors bounded. `bench/fuzz.ts`
 * runs the same with 100,000 inputs per service.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FuzzServers, openDescriptors, startFuzzServers } from "./fuzz/fuzz-harness.js";
import { fuzzInputs } from "./fuzz/fuzz-inputs.js";

/** Inputs per rpc; with about 75 rpcs and routes this is about 3,000 calls. */
const INPUTS_PER_RPC = 40;
const SEED = 12;
/** Bounds for the whole run (the servers and their clients share this process). */
const MAX_RSS_GROWTH_BYTES = 256 * 1024 * 1024;
const MAX_FD_GROWTH = 64;

let servers: FuzzServers;
beforeAll(async () => {
  servers = await startFuzzServers();
});
afterAll(() => servers?.stop());

describe("wire fuzz", () => {
  it("answers every input of every rpc within the rules", async () => {
    const rss0 = process.memoryUsage().rss;
    const fds0 = openDescriptors();
    const violations: string[] = [];
    const statuses = new Map<string, number>();
    let calls = 0;
    for (const [i, target] of servers.targets.entries()) {
      const inputs = fuzzInputs(target.method, servers.context, INPUTS_PER_RPC, SEED + i);
      // A few calls at a time, as concurrent clients would send them.
      for (let k = 0; k < inputs.length; k += 4) {
        const answers = await Promise.all(
          inputs.slice(k, k + 4).map((input) => target.call(input)),
        );
        for (const [j, answer] of answers.entries()) {
          calls += 1;
          const key = `${target.api} ${answer.status}`;
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
          if (answer.violation)
            violations.push(
              `${target.name} [${inputs[k + j]!.kind}, ${inputs[k + j]!.body.toString("hex").slice(0, 80)}]: ${answer.violation}`,
            );
        }
      }
    }
    const rssGrowth = process.memoryUsage().rss - rss0;
    const fdGrowth = openDescriptors() - fds0;
    console.log(
      `wire fuzz: ${calls} calls, ${servers.targets.length} targets; RSS +${(rssGrowth / 1e6).toFixed(1)} MB; fds ${fds0} -> ${fds0 + fdGrowth}\n` +
        [...statuses].map(([k, n]) => `  ${k}: ${n}`).join("\n"),
    );
    expect(violations.slice(0, 20)).toEqual([]);
    // The metrics observer ran around every SuperLink call and the endpoint still answers.
    const metrics = await fetch(`http://127.0.0.1:${servers.metricsPort}/metrics`);
    expect(metrics.status).toBe(200);
    const counted = [...(await metrics.text()).matchAll(/^flwr_rpc_calls_total\{.*\} (\d+)$/gm)]
      .map((m) => Number(m[1]))
      .reduce((a, b) => a + b, 0);
    expect(counted).toBeGreaterThan(calls / 2);
    expect(counted).toBeLessThanOrEqual(calls);
    expect(rssGrowth).toBeLessThan(MAX_RSS_GROWTH_BYTES);
    expect(fdGrowth).toBeLessThan(MAX_FD_GROWTH);
  }, 110_000);
});
