/**
 * The `flwr-serverapp` process against a Flower 1.42 SuperLink's Runtime API (the SuperLink in
 * `--isolation process`, its tasks acquired by our SuperExec), as 1.42's
 * `flwr/superlink/runtime/run_serverapp.py` does it, the task token on every call:
 *
 * 1. task heartbeats (`SendTaskHeartbeat`), at once and then every `heartbeatIntervalMs`;
 * 2. `PullTaskInput` → context, run, FAB (the SuperLink moves the task to running); a refusal
 *    (412 `RUNTIME_TASK_START_FAILED`) exits with Flower's run-start-rejected code;
 * 3. output captured and shipped with `PushLogs` (node 0, the run id), so `flwr log` and
 *    `flwr run --stream` show it;
 * 4. the FAB verified and installed, the TypeScript ServerApp loaded from it and run with a
 *    {@link RuntimeGrid} and the fused run config — exactly as the 1.29 path (`../run-serverapp.ts`);
 * 5. `PushTaskOutput` with the final context (state emptied) and `completed`, or `failed` with
 *    1.42's details (`ServerApp failed with exception: <message>`).
 *
 * A stopped run: 1.42's `flwr stop` finishes the task and revokes its token, so the next Grid
 * call or heartbeat answers 401 (or a heartbeat `success=false`). The process then logs
 * "Run ID … stopped." and ends at once, even while the ServerApp's own code is still waiting
 * (1.42 raises SIGINT on itself for the same reason). SIGINT/SIGTERM end it the same way, with a
 * failed task output as 1.42's exit handler pushes.
 *
 * Heartbeats go from a worker thread (`../heartbeat-thread.ts`), so a ServerApp whose code blocks
 * the event loop keeps its task (the token lives 60 s past the last heartbeat).
 *
 * Not done: runtime dependency installation (a TypeScript FAB has none), `--token-stdin` (1.42's
 * warm executor's; the CLI reads `--token` and `--token-file`).
 */
import {
  type Context,
  contextFromProto,
  contextToProto,
  RecordDict,
  ServerApp,
  userConfigFromProto,
} from "@flwr-ts/core";
import { RuntimeGrid } from "../../grid/runtime-grid.js";
import { isServiceError, RpcError } from "../../wire/rpc-error.js";
import { AppLoadError, loadComponent, registerAppLoader } from "../app-loader.js";
import { appLog } from "../app-log.js";
import { RunNotRunningError } from "../appio-errors.js";
import { installFab } from "../fab-install.js";
import { AppHeartbeatThread } from "../heartbeat-thread.js";
import { appsRoot, fuseRunConfig, readInstalledAppConfig } from "../installed-app.js";
import { captureOutput, type LogCapture } from "../log-capture.js";
import { ServerAppExitCode } from "../run-serverapp.js";
import type { RuntimeConnection } from "./runtime-client.js";
import {
  isTaskTokenRevoked,
  RUNTIME_TASK_START_FAILED,
  translateRuntimeError,
  withRuntimeRetry,
} from "./runtime-errors.js";

/** Flower's `SubStatus` values of a finished task. */
const COMPLETED = "completed";
const FAILED = "failed";
/** 1.42's default details (`run_serverapp.py`). */
const UNKNOWN_FAILURE = "Task failed with unknown error.";

/** Options of {@link runServerAppRuntime}. */
export interface RunServerAppRuntimeOptions extends RuntimeConnection {
  /** The task token from the SuperExec (`--token`). */
  readonly token: string;
  /** Heartbeat period (ms, default 10 s; 1.42 sends about every 20 s, the token lives 60 s). */
  readonly heartbeatIntervalMs?: number;
  /** Ends the process's work early (SIGINT/SIGTERM in the CLI): a failed task output is pushed. */
  readonly signal?: AbortSignal;
}

/** Why the ServerApp's run ended before its `main` returned. */
class Interrupted extends Error {
  constructor(
    readonly stopped: boolean,
    why: string,
  ) {
    super(why);
  }
}

/** Runs the ServerApp of the token's task; resolves with a Flower exit code. */
export async function runServerAppRuntime(options: RunServerAppRuntimeOptions): Promise<number> {
  const grid = new RuntimeGrid(options);
  const { client } = grid;
  let subStatus = FAILED;
  let details = UNKNOWN_FAILURE;
  let exitCode: number = ServerAppExitCode.SUCCESS;
  let context: Context | undefined;
  let capture: LogCapture | undefined;
  let runId: bigint | undefined;
  let stopped = false;

  // Settles when the task is lost (run stopped) or the process is told to stop.
  let interrupt: (reason: Interrupted) => void = () => {};
  const interrupted = new Promise<never>((_, reject) => {
    interrupt = reject;
  });
  interrupted.catch(() => {});
  const onAbort = () => interrupt(new Interrupted(false, "Task stopped by signal."));
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  // Heartbeats from a thread of their own (as on the 1.29 path): a ServerApp that blocks the
  // event loop keeps its task. A revoked token (401) counts as a lost task.
  const ca = options.rootCertificates;
  const heartbeat = new AppHeartbeatThread({
    service: "runtime",
    address: options.address,
    insecure: options.insecure,
    rootCertificates: Buffer.isBuffer(ca) ? ca.toString("ascii") : ca,
    intervalMs: options.heartbeatIntervalMs ?? 10_000,
    onLost: () => interrupt(new Interrupted(true, "the SuperLink no longer knows this task")),
    onError: (message) => appLog("DEBUG", `flwr-serverapp: task heartbeat failed: ${message}`),
    fallback: async () => {
      try {
        return (await client.sendTaskHeartbeat({}, { timeoutMs: 5_000 })).success;
      } catch (error) {
        if (isTaskTokenRevoked(error)) return false;
        throw error;
      }
    },
  });
  heartbeat.beat(options.token, true);
  const race = <T>(work: Promise<T>): Promise<T> => Promise.race([work, interrupted]);

  try {
    let inputs: Awaited<ReturnType<typeof client.pullTaskInput>>;
    try {
      inputs = await race(withRuntimeRetry(() => client.pullTaskInput({})));
    } catch (error) {
      if (error instanceof RpcError && error.apiErrorCode === RUNTIME_TASK_START_FAILED) {
        appLog("ERROR", `Failed to start run: ${error.details}`);
        details = `Failed to start run: ${error.details}`;
        exitCode = ServerAppExitCode.SERVERAPP_RUN_START_REJECTED;
        return exitCode;
      }
      throw error;
    }
    const { run, fab } = inputs;
    if (!run || !fab || !inputs.context)
      throw new Error("PullTaskInput returned no run, FAB or context");
    runId = run.runId;
    grid.setRun(runId);
    const currentRun = runId;
    capture = captureOutput(async (logs) => {
      await client.pushLogs({ node: { nodeId: 0n }, runId: currentRun, logs });
    });
    context = contextFromProto(inputs.context);
    const installed = installFab(fab, appsRoot());
    const app = readInstalledAppConfig(installed.appDir);
    context.runConfig = fuseRunConfig(app, userConfigFromProto(run.overrideConfig));
    registerAppLoader(appsRoot());
    const { module, exportName } = app.components.serverapp;
    const component = await race(loadComponent(installed.appDir, module, exportName));
    if (!(component instanceof ServerApp))
      throw new AppLoadError(
        `'${module}:${exportName}' is not a ServerApp (export \`new ServerApp()\` from @flwr-ts/core).`,
      );
    await race(component.run(grid, context));
    context.state = new RecordDict();
    subStatus = COMPLETED;
    details = "";
  } catch (error) {
    const translated = translateRuntimeError(error);
    if (
      translated instanceof RunNotRunningError ||
      (error instanceof Interrupted && error.stopped)
    ) {
      stopped = true;
      appLog("INFO", "");
      appLog("INFO", runId === undefined ? "Task stopped." : `Run ID ${runId} stopped.`);
      appLog("INFO", "");
    } else if (error instanceof Interrupted) {
      appLog("WARNING", error.message);
      details = error.message;
      exitCode = ServerAppExitCode.SERVERAPP_EXCEPTION;
    } else {
      // A wire failure (the Runtime API unreachable, a refused call) is one line; the app's own
      // errors keep their stack, as 1.42 logs the traceback.
      const detail = isServiceError(error)
        ? error.message
        : error instanceof Error
          ? (error.stack ?? error.message)
          : String(error);
      appLog("ERROR", `ServerApp raised an exception\n${detail}`);
      details = `ServerApp failed with exception: ${error instanceof Error ? error.message : String(error)}`;
      exitCode = ServerAppExitCode.SERVERAPP_EXCEPTION;
    }
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    await heartbeat.close();
    await capture?.stop();
    // A stopped run's token is revoked: the output would only be refused.
    if (!stopped) {
      try {
        await client.pushTaskOutput({
          context: context ? contextToProto(context) : undefined,
          subStatus,
          details,
        });
      } catch (error) {
        appLog(
          "ERROR",
          `Failed to push task output: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    grid.close();
  }
  return exitCode;
}
