/**
 * The SuperNode's Fleet connection against an in-process SuperLink (TLS, SuperNode auth, replay
 * protection): signatures made ahead of time are each used once and stay inside Flower's window,
 * for back-to-back, concurrent and late calls alike.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  newNodeKey,
  startTestSuperLink,
  type TestSuperLink,
} from "../superlink/testing/test-kit.js";
import { FleetConnection } from "./fleet-connection.js";

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
