/**
 * The `flwr-serverapp` process for one run (Python's `flwr.server.serverapp.app.run_serverapp`):
 *
 * 1. Heartbeats keep the app token alive; output is captured and shipped with PushLogs.
 * 2. PullAppInputs (run → running) gives the context, the run and the FAB.
 * 3. The FAB is verified and installed; the ServerApp component is loaded from it.
 * 4. `main(grid, context)` runs with a {@link GrpcGrid} and the fused run config; for a simulation
 *    run (PullAppInputs carries a `SimulationConfig`) the Grid is the simulation engine's.
 * 5. PushAppOutputs (the context, state emptied), then UpdateRunStatus `finished:completed`, or
 *    `finished:failed` with the error text. A stopped run (PERMISSION_DENIED) just exits.
 */
import {
  contextFromProto,
  contextToProto,
  RecordDict,
  ServerApp,
  userConfigFromProto,
} from "@flwr-ts/core";
import type { RunStatus } from "@flwr-ts/core/proto";
import { status as grpcStatus } from "@grpc/grpc-js";
import { GrpcGrid } from "../grid/grpc-grid.js";
import { isServiceError } from "../grpc/rpc-error.js";
import { startSimulation } from "../simulation/start-simulation.js";
import { AppLoadError, loadComponent, registerAppLoader } from "./app-loader.js";
import { appLog } from "./app-log.js";
import { RunNotRunningError, translateAppIoError } from "./appio-errors.js";
import { installFab } from "./fab-install.js";
import { AppHeartbeatThread } from "./heartbeat-thread.js";
import { appsRoot, fuseRunConfig, readInstalledAppConfig } from "./installed-app.js";
import { captureOutput, type LogCapture } from "./log-capture.js";

/** Flower's exit codes of `flwr-serverapp`. */
export const ServerAppExitCode = {
  SUCCESS: 0,
  SERVERAPP_EXCEPTION: 201,
  SERVERAPP_RUN_START_REJECTED: 203,
} as const;

/** Options of {@link runServerApp}. */
export interface RunServerAppOptions {
  /** ServerAppIo address. */
  readonly address: string;
  /** App token from the SuperExec. */
  readonly token: string;
  /** Heartbeat period (ms, default 10 s). */
  readonly heartbeatIntervalMs?: number;
}

/** Runs the ServerApp of the token's run; resolves with a Flower exit code. */
export async function runServerApp(options: RunServerAppOptions): Promise<number> {
  const grid = new GrpcGrid({ address: options.address, token: options.token });
  const { client } = grid;
  // Heartbeats from a thread of their own: a ServerApp that blocks the event loop (a long
  // synchronous evaluation) keeps its token.
  const heartbeat = new AppHeartbeatThread({
    service: "serverappio",
    address: options.address,
    intervalMs: options.heartbeatIntervalMs ?? 10_000,
    fallback: async (t) => (await client.sendAppHeartbeat({ token: t })).success,
  });
  heartbeat.beat(options.token, true);
  let capture: LogCapture | undefined;
  let runId: bigint | undefined;
  let finalStatus: RunStatus | undefined;
  let exitCode: number = ServerAppExitCode.SUCCESS;
  try {
    let inputs: Awaited<ReturnType<typeof client.pullAppInputs>>;
    try {
      inputs = await client.pullAppInputs({ token: options.token });
    } catch (error) {
      if (isServiceError(error) && error.code === grpcStatus.FAILED_PRECONDITION) {
        appLog("ERROR", `Failed to start run: ${error.details}`);
        return ServerAppExitCode.SERVERAPP_RUN_START_REJECTED;
      }
      throw translateAppIoError(error);
    }
    const run = inputs.run;
    const fab = inputs.fab;
    if (!run || !fab || !inputs.context)
      throw new Error("PullAppInputs returned no run, FAB or context");
    runId = run.runId;
    grid.setRun(runId);
    const currentRun = runId;
    capture = captureOutput(async (logs) => {
      await client.pushLogs({ node: { nodeId: 0n }, runId: currentRun, logs });
    });
    try {
      const installed = installFab(fab, appsRoot());
      const app = readInstalledAppConfig(installed.appDir);
      const context = contextFromProto(inputs.context);
      context.runConfig = fuseRunConfig(app, userConfigFromProto(run.overrideConfig));
      registerAppLoader(appsRoot());
      const { module, exportName } = app.components.serverapp;
      const component = await loadComponent(installed.appDir, module, exportName, "ServerApp");
      if (!(component instanceof ServerApp))
        throw new AppLoadError(
          `'${module}:${exportName}' is not a ServerApp (export \`new ServerApp()\` from @flwr-ts/core).`,
        );
      if (inputs.federationConfig === undefined) {
        await component.run(grid, context);
      } else {
        // A simulation run (a `--simulation` SuperLink): the ServerApp's Grid is the engine's
        // virtual SuperNodes (Python Flower runs this in `flwr-simulation`).
        const engine = await startSimulation({
          appDir: installed.appDir,
          app,
          appsRoot: appsRoot(),
          runId,
          runConfig: context.runConfig,
          config: inputs.federationConfig,
          log: appLog,
        });
        try {
          await component.run(engine, context);
        } finally {
          await engine.close();
        }
      }
      context.state = new RecordDict();
      await client.pushAppOutputs({
        token: options.token,
        runId,
        context: contextToProto(context),
      });
      finalStatus = { status: "finished", subStatus: "completed", details: "" };
    } catch (error) {
      const translated = translateAppIoError(error);
      if (translated instanceof RunNotRunningError) {
        appLog("INFO", "");
        appLog("INFO", `Run ID ${runId} stopped.`);
        appLog("INFO", "");
      } else {
        const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
        appLog("ERROR", `ServerApp raised an exception\n${detail}`);
        finalStatus = {
          status: "finished",
          subStatus: "failed",
          details: error instanceof Error ? error.message : String(error),
        };
        exitCode = ServerAppExitCode.SERVERAPP_EXCEPTION;
      }
    }
  } catch (error) {
    const translated = translateAppIoError(error);
    if (!(translated instanceof RunNotRunningError)) {
      appLog(
        "ERROR",
        `flwr-serverapp failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      exitCode = ServerAppExitCode.SERVERAPP_EXCEPTION;
    }
  } finally {
    await heartbeat.close();
    await capture?.stop();
    if (runId !== undefined && finalStatus) {
      try {
        await client.updateRunStatus({ runId, runStatus: finalStatus });
      } catch {
        // the run may have been stopped meanwhile
      }
    }
    grid.close();
  }
  return exitCode;
}
