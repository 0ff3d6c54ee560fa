/**
 * Flower 1.42's runtime version rules on the Runtime API: no headers accepted, 1.42.x accepted,
 * anything else (partial, repeated, empty, unknown package, unparsable or other major.minor)
 * refused with 1.42's reason, and the middleware's 412 {1001} on the real HTTP router.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, test } from "vitest";
import { MemoryObjectStore } from "../../object-store/memory-object-store.js";
import { createRuntimeHandlers } from "../../superlink/runtime/runtime-handlers.js";
import { SuperLinkRuntimeDefinition } from "../../superlink/runtime/runtime-server-definition.js";
import { MemoryLinkState } from "../../superlink/state/memory-link-state.js";
import { HttpRpcRouter } from "../../wire/http/http-router.js";
import type { MetadataValue } from "../../wire/metadata.js";
import { createRuntimeAuthMiddleware } from "./runtime-auth-middleware.js";
import {
  createRuntimeVersionMiddleware,
  runtimeVersionProblem,
} from "./runtime-version-middleware.js";

const headers =
  (h: Record<string, string | string[]>) =>
  (key: string): MetadataValue[] => {
    const v = h[key];
    return v === undefined ? [] : Array.isArray(v) ? v : [v];
  };
const peer = (version: string, name = "flwr") => ({
  "flwr-package-name": name,
  "flwr-package-version": version,
  "flwr-component-name": "SuperExec",
});

describe("runtime version rules", () => {
  test("accepted: no version headers at all, and any 1.42 release", () => {
    expect(runtimeVersionProblem(headers({}))).toBeUndefined();
    for (const v of ["1.42.0", "1.42.7", "1.42.0rc1", "1.42.1.dev20260101"])
      expect(runtimeVersionProblem(headers(peer(v))), v).toBeUndefined();
    expect(runtimeVersionProblem(headers(peer("1.42.0", "flwr-nightly")))).toBeUndefined();
  });

  test("refused: another major.minor, partial, repeated or empty headers, unknown package, junk", () => {
    expect(runtimeVersionProblem(headers(peer("1.29.0")))).toBe(
      "SuperLink version 1.42.0 detected a runtime version mismatch: expected a peer from the same major.minor release, but received SuperExec version 1.29.0.",
    );
    expect(runtimeVersionProblem(headers(peer("2.42.0")))).toMatch(/mismatch/);
    expect(runtimeVersionProblem(headers({ "flwr-package-name": "flwr" }))).toMatch(
      /^Invalid Flower runtime metadata/,
    );
    expect(
      runtimeVersionProblem(
        headers({ ...peer("1.42.0"), "flwr-package-version": ["1.42.0", "1.42.0"] }),
      ),
    ).toMatch(/^Invalid Flower runtime metadata/);
    expect(
      runtimeVersionProblem(headers({ ...peer("1.42.0"), "flwr-component-name": " " })),
    ).toMatch(/^Invalid Flower runtime metadata/);
    expect(runtimeVersionProblem(headers(peer("1.42.0", "flower")))).toBe(
      "Peer Flower package name is not recognized: 'flower'.",
    );
    expect(runtimeVersionProblem(headers(peer("latest")))).toBe(
      "Peer Flower version metadata cannot be parsed: 'latest'.",
    );
  });

  test("on the router: 412 {1001} with the reason as extra, before authentication", async () => {
    const state = new MemoryLinkState();
    const runtime = createRuntimeHandlers({ state, store: new MemoryObjectStore() });
    const router = new HttpRpcRouter().addService(SuperLinkRuntimeDefinition, runtime.handlers, {
      middleware: [createRuntimeVersionMiddleware(), createRuntimeAuthMiddleware({ state })],
    });
    const server = createServer(router.handle);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const post = (h: Record<string, string>) =>
        fetch(`http://127.0.0.1:${port}/v1/runtime/send-task-heartbeat`, {
          method: "POST",
          headers: { "content-type": "application/protobuf", ...h },
          body: new Uint8Array(),
        });
      const old = await post(peer("1.29.0"));
      expect(old.status).toBe(412);
      expect(await old.json()).toEqual({
        code: 1001,
        detail: "Runtime version compatibility check failed.",
        extra:
          "SuperLink version 1.42.0 detected a runtime version mismatch: expected a peer from the same major.minor release, but received SuperExec version 1.29.0.",
      });
      // A compatible caller gets as far as authentication.
      const same = await post(peer("1.42.0"));
      expect(same.status).toBe(401);
      expect(await same.json()).toEqual({ code: 1008, detail: "Authentication failed." });
    } finally {
      runtime.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      state.close();
    }
  });
});
