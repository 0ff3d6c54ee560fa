/**
 * The Runtime API SuperExec's polling against a real local HTTP server answering 1.42's
 * `/v1/runtime/acquire-task`: a 401 (SuperExec authentication refused, 1.42's code 1008) ends
 * the loop with one clear error naming `--superexec-auth-secret-file`, as 1.42's SuperExec stops on
 * a 401; an unavailable server (503) is retried; the requested task type is sent.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { AcquireTaskRequest, AcquireTaskResponse } from "@flwr-ts/core/proto/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { runRuntimeSuperExec, SuperExecAuthError } from "./runtime-superexec.js";

let server: Server | undefined;
afterEach(
  () =>
    new Promise<void>((resolve) => {
      server?.closeAllConnections();
      server ? server.close(() => resolve()) : resolve();
      server = undefined;
    }),
);

/** A server whose n-th acquire-task call gets `answer(n)` (status, body). */
async function acquireTaskServer(
  answer: (n: number, body: Buffer) => [number, string | Uint8Array],
) {
  const requests: AcquireTaskRequest[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (req.url !== "/v1/runtime/acquire-task") {
        res.writeHead(404, { "content-type": "application/json" }).end('{"detail":"Not Found"}');
        return;
      }
      requests.push(AcquireTaskRequest.decode(body));
      const [status, out] = answer(requests.length, body);
      const type = typeof out === "string" ? "application/json" : "application/protobuf";
      res.writeHead(status, { "content-type": type }).end(Buffer.from(out));
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

const app = { command: process.execPath, args: ["-e", "process.exit(0)"] };

describe("runRuntimeSuperExec", () => {
  it("stops with a SuperExecAuthError when the Runtime API refuses it (401)", async () => {
    const s = await acquireTaskServer(() => [
      401,
      '{"code":1008,"detail":"Authentication failed."}',
    ]);
    const run = runRuntimeSuperExec({
      address: s.address,
      insecure: true,
      taskTypes: ["flwr-serverapp"],
      app,
      pollIntervalMs: 10,
    });
    await expect(run).rejects.toBeInstanceOf(SuperExecAuthError);
    await expect(run).rejects.toThrow(
      /refused SuperExec authentication \(Authentication failed\.\): it requires --superexec-auth-secret-file/,
    );
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]?.supportedTaskTypes).toEqual(["flwr-serverapp"]);
  });

  it("a wrong secret is named as such", async () => {
    const s = await acquireTaskServer(() => [
      401,
      '{"code":1008,"detail":"Authentication failed."}',
    ]);
    await expect(
      runRuntimeSuperExec({
        address: s.address,
        insecure: true,
        taskTypes: ["flwr-clientapp"],
        app,
        authSecret: Buffer.from("not the secret"),
        pollIntervalMs: 10,
      }),
    ).rejects.toThrow(/--superexec-auth-secret-file must hold the secret/);
  });

  it("keeps polling through an unavailable Runtime API (503) until stopped", async () => {
    const stop = new AbortController();
    const s = await acquireTaskServer((n) => {
      if (n >= 5) stop.abort();
      return n <= 2
        ? [503, '{"detail":"Service Unavailable"}']
        : [200, AcquireTaskResponse.encode({ task: undefined, token: "" }).finish()];
    });
    await runRuntimeSuperExec({
      address: s.address,
      insecure: true,
      taskTypes: ["flwr-serverapp"],
      app,
      pollIntervalMs: 10,
      signal: stop.signal,
    });
    expect(s.requests.length).toBeGreaterThanOrEqual(5);
  });
});
