/**
 * The Runtime API ServerApp process against a Flower 1.42 SuperLink Runtime API on a real local
 * HTTP server (`test/superlink-runtime-server.ts`): the task output and exit code when the task
 * cannot start or has no FAB, and how it ends when the run is stopped (heartbeat
 * `success=false` or a revoked token, answered at once even while a call hangs) or the process is
 * told to stop. The happy path with a TypeScript ServerApp runs in
 * e2e/serverapp-on-python-1.42.test.ts against Python 1.42.
 */
import { Context, contextToProto, RecordDict } from "@flwr-ts/core";
import { Run } from "@flwr-ts/core/proto";
import { afterEach, describe, expect, it } from "vitest";
import {
  type SuperLinkRuntime,
  type SuperLinkRuntimeOptions,
  startSuperLinkRuntime,
} from "../../../test/superlink-runtime-server.js";
import { ServerAppExitCode } from "../run-serverapp.js";
import { runServerAppRuntime } from "./run-serverapp-runtime.js";

const RUN = 9n;
const TOKEN = "tok-serverapp";

const inputWithoutFab = {
  context: contextToProto(
    new Context({ runId: RUN, nodeId: 0n, nodeConfig: {}, state: new RecordDict(), runConfig: {} }),
  ),
  run: Run.fromPartial({ runId: RUN, seriesId: RUN }),
  fab: undefined,
  federationConfig: undefined,
  taskId: 4n,
};

describe("runServerAppRuntime (Flower 1.42 SuperLink Runtime API)", () => {
  let server: SuperLinkRuntime | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const run = async (
    options: Omit<SuperLinkRuntimeOptions, "token" | "runId">,
    extra: { signal?: AbortSignal; beforeStart?: (s: SuperLinkRuntime) => void } = {},
  ) => {
    server = await startSuperLinkRuntime({ token: TOKEN, runId: RUN, ...options });
    extra.beforeStart?.(server);
    const t0 = performance.now();
    const code = await runServerAppRuntime({
      address: server.address,
      insecure: true,
      token: TOKEN,
      heartbeatIntervalMs: 100,
      ...(extra.signal ? { signal: extra.signal } : {}),
    });
    return { code, ms: performance.now() - t0, server };
  };

  it("a task the SuperLink refuses to start exits with Flower's run-start-rejected code", async () => {
    const { code, server } = await run({});
    expect(code).toBe(ServerAppExitCode.SERVERAPP_RUN_START_REJECTED);
    expect(server.outputs).toHaveLength(1);
    expect(server.outputs[0]).toMatchObject({ subStatus: "failed" });
    expect(server.outputs[0]?.details).toMatch(/^Failed to start run: Failed to start task\./);
  });

  it("a run without a FAB fails the task with 1.42's details", async () => {
    const { code, server } = await run({ taskInput: inputWithoutFab });
    expect(code).toBe(ServerAppExitCode.SERVERAPP_EXCEPTION);
    expect(server.outputs).toHaveLength(1);
    expect(server.outputs[0]?.subStatus).toBe("failed");
    expect(server.outputs[0]?.details).toBe(
      "ServerApp failed with exception: PullTaskInput returned no run, FAB or context",
    );
    const paths = server.calls.map((c) => c.path).filter((p) => !p.endsWith("heartbeat"));
    expect(paths).toEqual(["/v1/runtime/pull-task-input", "/v1/runtime/push-task-output"]);
    expect(new Set(server.calls.map((c) => c.token))).toEqual(new Set([TOKEN]));
  });

  it("ends at once when a heartbeat says the task is gone, even while a call hangs", async () => {
    const { code, ms, server } = await run({
      taskInput: inputWithoutFab,
      taskInputDelayMs: 10_000,
      heartbeatSuccess: false,
    });
    expect(code).toBe(ServerAppExitCode.SUCCESS);
    expect(ms).toBeLessThan(5_000);
    expect(server.outputs).toHaveLength(0);
  });

  it("a revoked token (1.42's stop_run) ends it as stopped, without a task output", async () => {
    const { code, ms, server } = await run(
      { taskInput: inputWithoutFab, taskInputDelayMs: 10_000 },
      { beforeStart: (s) => s.revoke() },
    );
    expect(code).toBe(ServerAppExitCode.SUCCESS);
    expect(ms).toBeLessThan(5_000);
    expect(server.outputs).toHaveLength(0);
  });

  it("a stop signal ends it with a failed task output", async () => {
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 200);
    const { code, ms, server } = await run(
      { taskInput: inputWithoutFab, taskInputDelayMs: 10_000 },
      { signal: stop.signal },
    );
    expect(code).toBe(ServerAppExitCode.SERVERAPP_EXCEPTION);
    expect(ms).toBeLessThan(5_000);
    expect(server.outputs).toEqual([
      expect.objectContaining({ subStatus: "failed", details: "Task stopped by signal." }),
    ]);
  });
});
