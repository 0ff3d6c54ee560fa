/**
 * The SuperLink's Prometheus endpoint (`--metrics-address`) and health server
 * (`--health-server-address`), on a real SuperLink on 127.0.0.1: calls counted by method, wire
 * and code (refused ones too), nodes and runs by status, message-exchange and round latency from
 * the state's events, bounded bookkeeping, and nothing served when the flags are absent.
 */
import {
  ControlDefinition,
  FleetDefinition,
  type Message,
  PullMessagesRequest,
} from "@flwr-ts/core/proto";
import { afterEach, describe, expect, test } from "vitest";
import { healthCheck } from "../../../test/health-client.js";
import { createClient } from "../../grpc/client.js";
import { ServingStatus } from "../../grpc/health-service.js";
import { channelCredentials } from "../../grpc/tls.js";
import { MemoryObjectStore } from "../../object-store/memory-object-store.js";
import { NOOP_FEDERATION, NOOP_FLWR_AID } from "../state/link-state.js";
import { MemoryLinkState } from "../state/memory-link-state.js";
import { SuperLink } from "../superlink.js";
import { MAX_TRACKED, SuperLinkMetrics } from "./superlink-metrics.js";

let superlink: SuperLink | undefined;
const closers: (() => void)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await superlink?.stop(0);
  superlink = undefined;
});

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** The value of the sample `name{labels}` in exposition `text`, or undefined. */
function sample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) return Number(m[3]);
  }
  return undefined;
}

let seq = 0;
const nowS = () => Date.now() / 1000;
function ins(runId: bigint, dst: bigint, groupId: string): Message {
  return {
    metadata: {
      runId,
      messageId: (++seq).toString(16).padStart(64, "0"),
      srcNodeId: 1n,
      dstNodeId: dst,
      replyToMessageId: "",
      groupId,
      ttl: 3600,
      messageType: "train",
      createdAt: nowS(),
    },
    content: { items: [] },
    error: undefined,
  };
}
function reply(to: Message): Message {
  const m = to.metadata!;
  return {
    metadata: {
      ...m,
      messageId: (++seq).toString(16).padStart(64, "f"),
      srcNodeId: m.dstNodeId,
      dstNodeId: 1n,
      replyToMessageId: m.messageId,
      ttl: m.createdAt + m.ttl - nowS(),
      createdAt: nowS(),
    },
    content: { items: [] },
    error: undefined,
  };
}

function newRun(state: MemoryLinkState): bigint {
  return state.createRun({
    fabId: "flwrlabs/app",
    fabVersion: "1.0.0",
    fabHash: "ab".repeat(32),
    overrideConfig: new Map(),
    federation: NOOP_FEDERATION,
    flwrAid: NOOP_FLWR_AID,
    runType: "serverapp",
  });
}

describe("SuperLink metrics endpoint", () => {
  test("counts calls by method, wire and code, and reads nodes and runs from the state", async () => {
    const state = new MemoryLinkState();
    superlink = new SuperLink({
      state,
      store: new MemoryObjectStore(),
      fleetAddress: "127.0.0.1:0",
      controlAddress: "127.0.0.1:0",
      enableSupernodeAuth: false,
      metricsAddress: "127.0.0.1:0",
      healthServerAddress: "127.0.0.1:0",
      httpAddress: "127.0.0.1:0",
    });
    const ports = await superlink.start();
    expect(ports.metricsPort).toBeGreaterThan(0);
    // The same observer counts Flower 1.42's HTTP wire: an unsigned Fleet call is a 401.
    const http = await fetch(`http://127.0.0.1:${ports.httpPort}/v1/fleet/pull-messages`, {
      method: "POST",
      headers: { "content-type": "application/protobuf" },
      body: new Uint8Array(0),
    });
    expect(http.status).toBe(401);
    const creds = channelCredentials({ insecure: true });
    const control = createClient(ControlDefinition, `127.0.0.1:${ports.controlPort}`, creds);
    const fleet = createClient(FleetDefinition, `127.0.0.1:${ports.fleetPort}`, creds);
    closers.push(
      () => control.close(),
      () => fleet.close(),
    );

    await control.listNodes({});
    await control.listNodes({});
    // Unsigned Fleet calls are refused by the node-auth middleware: counted as errors.
    await expect(fleet.pullMessages(PullMessagesRequest.fromPartial({}))).rejects.toMatchObject({
      code: 16,
    });
    const id = state.createNode(NOOP_FLWR_AID, "none", Buffer.alloc(97, 4), 30);
    state.activateNode(id, 30);
    newRun(state);

    const text = await scrape(ports.metricsPort);
    const calls = (method: string, code: string) =>
      sample(text, "flwr_rpc_calls_total", { method, code, protocol: "grpc" });
    expect(calls("ListNodes", "OK")).toBe(2);
    expect(calls("PullMessages", "UNAUTHENTICATED")).toBe(1);
    expect(
      sample(text, "flwr_rpc_calls_total", {
        method: "PullMessages",
        protocol: "http",
        code: "UNAUTHENTICATED",
      }),
    ).toBe(1);
    expect(sample(text, "flwr_rpc_duration_seconds_count", { service: "flwr.proto.Control" })).toBe(
      2,
    );
    expect(sample(text, "flwr_supernodes", { status: "online" })).toBe(1);
    expect(sample(text, "flwr_supernodes", { status: "offline" })).toBe(0);
    expect(sample(text, "flwr_runs", { status: "pending" })).toBe(1);
    expect(sample(text, "process_resident_memory_bytes")).toBeGreaterThan(1e6);

    // Flower's separate health server answers SERVING for the process and its services.
    const health = { address: `127.0.0.1:${ports.healthPort}` };
    expect(await healthCheck(health, "")).toBe(ServingStatus.SERVING);
    expect(await healthCheck(health, "flwr.proto.Fleet")).toBe(ServingStatus.SERVING);

    // Other paths and methods are refused; the endpoint never serves the APIs.
    expect((await fetch(`http://127.0.0.1:${ports.metricsPort}/`)).status).toBe(404);
    const post = await fetch(`http://127.0.0.1:${ports.metricsPort}/metrics`, { method: "POST" });
    expect(post.status).toBe(405);
  });

  test("no endpoint and no health server unless asked", async () => {
    superlink = new SuperLink({
      state: new MemoryLinkState(),
      store: new MemoryObjectStore(),
      fleetAddress: "127.0.0.1:0",
      controlAddress: "127.0.0.1:0",
      enableSupernodeAuth: false,
    });
    const ports = await superlink.start();
    expect(ports.metricsPort).toBe(0);
    expect(ports.healthPort).toBe(0);
  });

  test("message-exchange and round latency come from the state's events", async () => {
    const state = new MemoryLinkState();
    let clock = 100;
    const metrics = new SuperLinkMetrics(state, () => clock);
    closers.push(
      () => metrics.close(),
      () => state.close(),
    );
    const nodes = [1, 2].map((n) => {
      const id = state.createNode(NOOP_FLWR_AID, "none", Buffer.alloc(97, n), 30);
      state.activateNode(id, 30);
      return id;
    });
    const runId = newRun(state);
    state.updateRunStatus(runId, { status: "starting", subStatus: "", details: "" });
    state.updateRunStatus(runId, { status: "running", subStatus: "", details: "" });
    const round = nodes.map((n) => ins(runId, n, "1"));
    for (const m of round) expect(state.storeMessageIns(m).ok).toBe(true);
    for (const n of nodes) state.getMessageIns(n);
    clock = 100.5;
    expect(state.storeMessageRes(reply(round[0]!)).ok).toBe(true);
    clock = 102;
    let text = await metrics.metricsText();
    expect(sample(text, "flwr_message_exchange_seconds_count", { message_type: "train" })).toBe(1);
    expect(sample(text, "flwr_round_seconds_count", { message_type: "train" }) ?? 0).toBe(0);
    expect(state.storeMessageRes(reply(round[1]!)).ok).toBe(true);
    text = await metrics.metricsText();
    expect(sample(text, "flwr_message_exchange_seconds_count", { message_type: "train" })).toBe(2);
    expect(sample(text, "flwr_message_exchange_seconds_sum", { message_type: "train" })).toBe(2.5);
    // The round ended when its last instruction was answered, 2 s after it began.
    expect(sample(text, "flwr_round_seconds_count", { message_type: "train" })).toBe(1);
    expect(sample(text, "flwr_round_seconds_sum", { message_type: "train" })).toBe(2);
    expect(sample(text, "flwr_round_seconds_bucket", { le: "1" })).toBe(0);
    expect(sample(text, "flwr_round_seconds_bucket", { le: "2.5" })).toBe(1);
    expect(metrics.tracked).toEqual({ instructions: 0, rounds: 0 });
  });

  test("instructions never answered cannot grow the bookkeeping past its bound", () => {
    const state = new MemoryLinkState();
    const metrics = new SuperLinkMetrics(state);
    closers.push(
      () => metrics.close(),
      () => state.close(),
    );
    const node = state.createNode(NOOP_FLWR_AID, "none", Buffer.alloc(97, 1), 30);
    state.activateNode(node, 30);
    const runId = newRun(state);
    state.updateRunStatus(runId, { status: "starting", subStatus: "", details: "" });
    state.updateRunStatus(runId, { status: "running", subStatus: "", details: "" });
    for (let i = 0; i < MAX_TRACKED + 500; i++)
      expect(state.storeMessageIns(ins(runId, node, String(i))).ok).toBe(true);
    expect(metrics.tracked.instructions).toBe(MAX_TRACKED);
    expect(metrics.tracked.rounds).toBe(MAX_TRACKED);
  });
});
