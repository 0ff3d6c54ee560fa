/**
 * The SuperNode's Fleet connection against an in-process SuperLink (TLS, SuperNode auth, replay
 * protection): signatures made ahead of time are each used once and stay inside Flower's window,
 * for back-to-back, concurrent and late calls alike; the same over the HTTP wire, with the long
 * poll and the inline handshake, and the clear error for a SuperLink port of the other wire.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  newNodeKey,
  startTestSuperLink,
  type TestSuperLink,
} from "../../test/superlink-test-kit.js";
import { WireMismatchError } from "../wire/wire-probe.js";
import { FleetConnection } from "./fleet-connection.js";
import { classifyRpcError } from "./rpc-retry.js";

let link: TestSuperLink;

beforeAll(async () => {
  link = await startTestSuperLink({ tls: true, enableSupernodeAuth: true });
}, 60_000);
afterAll(async () => {
  await link.stop();
});

test("every call is accepted: no signature is sent twice, none is stale", async () => {
  const key = newNodeKey();
  const nodeId = (await link.control().registerNode({ publicKey: key.publicKeyPem })).nodeId!;
  const conn = new FleetConnection({
    address: `127.0.0.1:${link.superlink.ports.fleetPort}`,
    credentials: link.credentials(),
    privateKey: key.privateKey,
  });
  expect(await conn.activateNode(30)).toBe(nodeId);
  for (let i = 0; i < 20; i++) expect(await conn.sendHeartbeat(nodeId, 30)).toBe(true);
  const concurrent = await Promise.all(
    Array.from({ length: 10 }, () => conn.sendHeartbeat(nodeId, 30)),
  );
  expect(concurrent).toEqual(Array(10).fill(true));
  // Longer than a stocked signature may wait: the next call signs afresh.
  await new Promise((r) => setTimeout(r, 2100));
  expect(await conn.sendHeartbeat(nodeId, 30)).toBe(true);
  conn.close();
}, 30_000);

describe("over Flower 1.40+'s HTTP wire (the SuperLink's HTTP port, HTTPS)", () => {
  const httpConnection = (key = newNodeKey()) =>
    new FleetConnection({
      wire: "http",
      insecure: false,
      rootCertificates: link.caCertPath,
      address: `127.0.0.1:${link.httpPort}`,
      privateKey: key.privateKey,
    });

  test("signed calls (presigned too) are accepted; long poll and inline handshake work", async () => {
    const key = newNodeKey();
    const nodeId = (await link.control().registerNode({ publicKey: key.publicKeyPem })).nodeId!;
    const conn = httpConnection(key);
    expect(conn.wire).toBe("http");
    expect(await conn.activateNode(30)).toBe(nodeId);
    for (let i = 0; i < 5; i++) expect(await conn.sendHeartbeat(nodeId, 30)).toBe(true);
    const concurrent = await Promise.all(
      Array.from({ length: 5 }, () => conn.sendHeartbeat(nodeId, 30)),
    );
    expect(concurrent).toEqual(Array(5).fill(true));
    // The flwr-ts SuperLink holds an empty pull open for the asked wait, and announces its
    // inline limit in the response headers.
    const started = performance.now();
    expect(await conn.pullMessage(nodeId, { waitMs: 600 })).toBeUndefined();
    expect(performance.now() - started).toBeGreaterThanOrEqual(500);
    expect(conn.serverInlineMax).toBeGreaterThan(0);
    await conn.deactivateNode(nodeId);
    conn.close();
  }, 30_000);

  test("a wrong wire is reported, not retried", async () => {
    const key = newNodeKey();
    const toGrpc = new FleetConnection({
      wire: "http",
      insecure: false,
      rootCertificates: link.caCertPath,
      address: `127.0.0.1:${link.superlink.ports.fleetPort}`,
      privateKey: key.privateKey,
    });
    const a = await toGrpc.activateNode(30).catch((e: unknown) => e);
    expect(a).toBeInstanceOf(WireMismatchError);
    expect(classifyRpcError(a)).toBe("wire-mismatch");
    toGrpc.close();
    const toHttp = new FleetConnection({
      address: `127.0.0.1:${link.httpPort}`,
      credentials: link.credentials(),
      privateKey: key.privateKey,
    });
    const b = await toHttp.activateNode(30).catch((e: unknown) => e);
    expect(b).toBeInstanceOf(WireMismatchError);
    expect((b as WireMismatchError).peerWire).toBe("http");
    toHttp.close();
  }, 30_000);
});
