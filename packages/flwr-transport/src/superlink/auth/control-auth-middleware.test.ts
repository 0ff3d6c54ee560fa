import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateCertificates, generateOperatorCertificate } from "@flwr-ts/crypto";
import { Metadata } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MemoryObjectStore } from "../../object-store/memory-object-store.js";
import type { CallContext } from "../../wire/call-context.js";
import { Code } from "../../wire/code.js";
import { withControlAudit } from "../control/control-audit.js";
import { createControlHandlers } from "../control/control-servicer.js";
import { MemoryLinkState } from "../state/memory-link-state.js";
import {
  ANONYMOUS_OPERATOR,
  createControlAuthMiddleware,
  INVALID_TOKEN_MESSAGE,
  OPERATOR_ATTRIBUTE,
  OPERATOR_REQUIRED_MESSAGE,
  operatorOf,
} from "./control-auth-middleware.js";

const TOKEN = "a".repeat(48);
let dir: string;
let operatorDer: Uint8Array;
let serverDer: Uint8Array;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "flwr-control-auth-"));
  const certs = await generateCertificates({ outDir: dir });
  const op = await generateOperatorCertificate({ outDir: dir, name: "alice" });
  operatorDer = new X509Certificate(readFileSync(op.paths.cert)).raw;
  serverDer = new X509Certificate(certs.serverCertPem).raw;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ctxOf(options: { metadata?: Record<string, string>; cert?: Uint8Array } = {}) {
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(options.metadata ?? {})) metadata.set(k, v);
  return {
    method: "/flwr.proto.Control/StartRun",
    protocol: "grpc",
    metadata,
    peer: "127.0.0.1:1",
    peerCertificate: options.cert,
    signal: new AbortController().signal,
    attributes: new Map(),
    responseMetadata: new Metadata(),
  } satisfies CallContext;
}

async function refusal(run: () => unknown): Promise<{ code: number; details: string }> {
  try {
    await run();
  } catch (error) {
    return error as { code: number; details: string };
  }
  throw new Error("expected a refusal");
}

describe("Control API operator authentication middleware", () => {
  test("off: everyone is anonymous, nothing is refused", async () => {
    const guard = createControlAuthMiddleware({ required: false });
    const ctx = ctxOf();
    await guard({}, ctx);
    expect(operatorOf(ctx)).toEqual(ANONYMOUS_OPERATOR);
  });

  test("required: an operator certificate names the operator; the server certificate does not", async () => {
    const guard = createControlAuthMiddleware({ required: true, token: TOKEN });
    const ctx = ctxOf({ cert: operatorDer });
    await guard({}, ctx);
    expect(ctx.attributes.get(OPERATOR_ATTRIBUTE)).toEqual({ name: "alice", via: "certificate" });
    const server = await refusal(() => guard({}, ctxOf({ cert: serverDer })));
    expect(server).toMatchObject({
      code: Code.UNAUTHENTICATED,
      details: OPERATOR_REQUIRED_MESSAGE,
    });
    const none = await refusal(() => guard({}, ctxOf()));
    expect(none.code).toBe(Code.UNAUTHENTICATED);
  });

  test("required: the token as Bearer or as Flower's flwr-oidc-access-token; a wrong one is refused", async () => {
    const guard = createControlAuthMiddleware({ required: true, token: TOKEN });
    for (const metadata of [
      { authorization: `Bearer ${TOKEN}` } as Record<string, string>,
      { "flwr-oidc-access-token": TOKEN, "flwr-oidc-refresh-token": "x" },
    ]) {
      const ctx = ctxOf({ metadata });
      await guard({}, ctx);
      expect(operatorOf(ctx)).toEqual({ name: "token", via: "token" });
    }
    const wrong = await refusal(() =>
      guard(
        {},
        ctxOf({ metadata: { authorization: `Bearer ${"b".repeat(48)}` }, cert: operatorDer }),
      ),
    );
    expect(wrong).toMatchObject({ code: Code.UNAUTHENTICATED, details: INVALID_TOKEN_MESSAGE });
    // Certificates only: any token is wrong.
    const certOnly = createControlAuthMiddleware({ required: true });
    expect(
      (await refusal(() => certOnly({}, ctxOf({ metadata: { authorization: `Bearer ${TOKEN}` } }))))
        .details,
    ).toBe(INVALID_TOKEN_MESSAGE);
  });

  test("the audit line names the operator, or anonymous when auth is off", async () => {
    const lines: string[] = [];
    const state = new MemoryLinkState();
    const handlers = withControlAudit(
      createControlHandlers({ state, store: new MemoryObjectStore() }),
      (_level, text) => lines.push(text),
    );
    const ctx = ctxOf();
    await createControlAuthMiddleware({ required: false })({}, ctx);
    const failed = await refusal(() => handlers.registerNode({ publicKey: Buffer.from("x") }, ctx));
    expect(failed.code).toBe(Code.FAILED_PRECONDITION);
    expect(lines).toEqual([
      "Control audit: operator=anonymous (no operator auth) peer=127.0.0.1:1 RegisterNode failed (FAILED_PRECONDITION: The provided public key is not valid)",
    ]);
    const alice = ctxOf({ cert: operatorDer });
    await createControlAuthMiddleware({ required: true })({}, alice);
    await refusal(() => handlers.unregisterNode({ nodeId: 5n }, alice));
    expect(lines[1]).toBe(
      "Control audit: operator=alice (certificate) peer=127.0.0.1:1 UnregisterNode failed (NOT_FOUND: Node ID not found for account) node_id=5",
    );
  });
});
