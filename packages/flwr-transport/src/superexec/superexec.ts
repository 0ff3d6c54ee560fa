/**
 * The SuperExec (Python's `flwr.supercore.superexec.run_superexec` with the serverapp/clientapp
 * plugins): watches an AppIo API for runs with work, takes the run's token and launches
 * `flwr-serverapp` / `flwr-clientapp` with `--insecure --<appio>-api-address … --token …
 * --parent-pid <own pid>`.
 *
 * Latency: Flower polls ListAppsToLaunch every second. This SuperExec asks the flwr-ts servers to
 * hold the call open until a run has work (long-poll header), so an app starts as soon as its
 * message or run exists; against a Python server (immediate answers) it polls with a delay that
 * grows from 100 ms to 1 s while nothing happens.
 *
 * For ServerApps it also watches its children: a `flwr-serverapp` that dies without finishing
 * its run (killed, crashed) has its run marked `finished:failed` at once with the token it was
 * given, instead of waiting for the token to expire. For ClientApps it ends the processes of a
 * run that finished while they worked (`flwr stop`; `stopped-run-reaper.ts`).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { LOG_FORMAT_ENV } from "@flwr-ts/core";
import { ClientAppIoDefinition, ServerAppIoDefinition } from "@flwr-ts/core/proto";
import { credentials, Metadata } from "@grpc/grpc-js";
import { appLog } from "../app-runtime/app-log.js";
import { withParentPipe } from "../app-runtime/parent-monitor.js";
import { flowerChannelOptions } from "../grpc/channel-options.js";
import { createClient } from "../grpc/client.js";
import { PULL_WAIT_HEADER as WAIT_HEADER } from "../protocol/flwr-ts-headers.js";
import { APP_TOKEN_HEADER } from "../serverappio/app-token-middleware.js";
import { abortableSleep } from "../supernode/abortable-sleep.js";
import { StoppedRunReaper } from "./stopped-run-reaper.js";

/** The two plugin types. */
export type PluginType = "serverapp" | "clientapp";

/** How an app process is started. */
export interface AppCommand {
  /** Executable (e.g. `process.execPath`). */
  readonly command: string;
  /** Arguments before Flower's (e.g. the script path). */
  readonly args: readonly string[];
}

/** Options of {@link runSuperExec}. */
export interface SuperExecOptions {
  /** AppIo API address. */
  readonly appioAddress: string;
  /** Which apps to launch. */
  readonly pluginType: PluginType;
  /** The app executable. */
  readonly app: AppCommand;
  /** Extra arguments for every app process (e.g. the warm-reuse flag of our flwr-clientapp). */
  readonly extraAppArgs?: readonly string[];
  /** Metadata added to ListAppsToLaunch / RequestToken / GetRun (SuperExec auth). */
  readonly metadata?: (method: string) => Metadata;
  /** Stops the loop. */
  readonly signal?: AbortSignal;
  /**
   * Aborted when this SuperExec's parent is gone: its app processes get SIGKILL at once (one
   * still starting up watches nothing yet; the others would end by their parent-death pipe).
   */
  readonly parentGone?: AbortSignal;
  /** Called after each launch (tests). */
  readonly onLaunch?: (runId: bigint, child: ChildProcess) => void;
}

/** Longest single held-open ListAppsToLaunch (ms). */
const LONG_POLL_MS = 25_000;

/** Runs until `signal` aborts. */
export async function runSuperExec(options: SuperExecOptions): Promise<void> {
  const definition =
    options.pluginType === "serverapp" ? ServerAppIoDefinition : ClientAppIoDefinition;
  const client = createClient(
    definition as typeof ServerAppIoDefinition,
    options.appioAddress,
    credentials.createInsecure(),
    {
      channelOptions: flowerChannelOptions,
      ...(options.metadata ? { metadata: options.metadata } : {}),
    },
  );
  const signal = options.signal ?? new AbortController().signal;
  const children = new Set<ChildProcess>();
  options.parentGone?.addEventListener(
    "abort",
    () => {
      for (const child of children) child.kill("SIGKILL");
    },
    { once: true },
  );
  // `flwr stop` reaches ClientApps: their processes end once their run is finished.
  const reaper =
    options.pluginType === "clientapp"
      ? new StoppedRunReaper(async (runId) => (await client.getRun({ node: undefined, runId })).run)
      : undefined;
  let idle = 100;
  try {
    while (!signal.aborted) {
      const started = Date.now();
      let launched = false;
      try {
        const md = new Metadata();
        md.set(WAIT_HEADER, String(LONG_POLL_MS));
        const { runIds } = await client.listAppsToLaunch(
          {},
          { metadata: md, timeoutMs: LONG_POLL_MS + 30_000, signal },
        );
        const runId = runIds[0];
        if (runId !== undefined) {
          if (options.pluginType === "serverapp") {
            const { run } = await client.getRun({ node: undefined, runId }, { signal });
            // A simulation run's ServerApp runs in flwr-serverapp too, against the engine
            // (Python Flower launches `flwr-simulation` for it).
            if (run?.runType && run.runType !== "serverapp" && run.runType !== "simulation") {
              appLog("ERROR", `Unknown run type '${run.runType}' for run_id ${runId}.`);
              await abortableSleep(1000, signal);
              continue;
            }
          }
          const { token } = await client.requestToken({ runId }, { signal });
          if (token) {
            const child = launch(options, token, runId);
            children.add(child);
            reaper?.track(child, runId);
            child.once("exit", (code, sig) => {
              children.delete(child);
              if (options.pluginType === "serverapp" && code !== 0)
                void failRun(client, runId, token, code, sig);
            });
            options.onLaunch?.(runId, child);
            launched = true;
          }
        }
      } catch (error) {
        if (signal.aborted) break;
        appLog("WARNING", `SuperExec: ${error instanceof Error ? error.message : String(error)}`);
        await abortableSleep(1000, signal);
        continue;
      }
      if (launched || Date.now() - started >= 500) {
        idle = 100;
        continue;
      }
      await abortableSleep(idle, signal);
      idle = Math.min(idle * 2, 1000);
    }
  } finally {
    reaper?.close();
    client.close();
  }
}

function launch(options: SuperExecOptions, token: string, runId: bigint): ChildProcess {
  const addressFlag =
    options.pluginType === "serverapp" ? "--serverappio-api-address" : "--clientappio-api-address";
  const args = [
    ...options.app.args,
    "--insecure",
    addressFlag,
    options.appioAddress,
    "--token",
    token,
    "--parent-pid",
    String(process.pid),
    ...(options.extraAppArgs ?? []),
  ];
  const verbose = process.env["FLWR_TS_SERVERAPP_STDIO"] === "inherit";
  // Like Flower: a ServerApp's output goes to the run's logs only; a ClientApp's to the node's console.
  const stdio = options.pluginType === "serverapp" && !verbose ? "ignore" : "inherit";
  appLog("DEBUG", `Launching ${options.pluginType} for run ${runId}`);
  // A parent-death pipe: the app process ends as soon as this SuperExec does, however it ends.
  // A ServerApp's output is the run's log (`flwr log`, `flwr run --stream`): always text.
  const env =
    options.pluginType === "serverapp" ? withoutEnv(process.env, LOG_FORMAT_ENV) : process.env;
  return spawn(options.app.command, args, withParentPipe(stdio, env));
}

function withoutEnv(env: NodeJS.ProcessEnv, name: string): NodeJS.ProcessEnv {
  const { [name]: _dropped, ...rest } = env;
  return rest;
}

async function failRun(
  client: ReturnType<typeof createClient<typeof ServerAppIoDefinition>>,
  runId: bigint,
  token: string,
  code: number | null,
  sig: NodeJS.Signals | null,
): Promise<void> {
  const md = new Metadata();
  md.set(APP_TOKEN_HEADER, token);
  const how = sig ? `was killed by ${sig}` : `exited with code ${code}`;
  try {
    const status = (await client.getRun({ node: undefined, runId })).run?.status;
    if (!status || status.status === "finished") return;
    await client.updateRunStatus(
      {
        runId,
        runStatus: {
          status: "finished",
          subStatus: "failed",
          details: `The ServerApp process ${how}.`,
        },
      },
      { metadata: md },
    );
    appLog("WARNING", `Run ${runId} failed: the ServerApp process ${how}.`);
  } catch {
    // the token expired or the run finished meanwhile: the SuperLink handles it
  }
}
