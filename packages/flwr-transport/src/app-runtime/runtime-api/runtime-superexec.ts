/**
 * The SuperExec against a Flower 1.42 Runtime API (1.42's
 * `flwr/supercore/superexec/run_superexec.py` with the subprocess executor): every poll interval
 * it calls `AcquireTask{supported_task_types}` — signed with SuperExec auth when a secret is
 * given (`superexec-auth.ts`; a SuperNode without `--superexec-auth-secret-file` checks
 * nothing) — and, when the answer carries a task and a token, launches the app process as 1.42's
 * `SubprocessExecutor.launch` does: `<app> --runtime-api-address ADDR --token T
 * [--insecure | --root-certificates PATH] --parent-pid <own pid>`.
 *
 * The poll interval is 1.42's: `FLWR_SUPEREXEC_TASK_POLL_INTERVAL` seconds (0.01-60, default 1).
 * A refused AcquireTask (401: no or a wrong SuperExec secret) ends the loop with a
 * {@link SuperExecAuthError}, as 1.42's SuperExec stops itself on a 401 (`http_retry.py`).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { AcquireTaskRequest } from "@flwr-ts/core/proto/runtime";
import { Metadata } from "@grpc/grpc-js";
import { deriveAuthSecret, superExecAuthHeaders } from "../../protocol/runtime/superexec-auth.js";
import { abortableSleep } from "../../supernode/abortable-sleep.js";
import { Code } from "../../wire/code.js";
import { isServiceError } from "../../wire/rpc-error.js";
import { appLog } from "../app-log.js";
import { createRuntimeClient, type RuntimeConnection } from "./runtime-client.js";

/** How an app process is started. */
export interface RuntimeAppCommand {
  readonly command: string;
  readonly args: readonly string[];
}

/** Options of {@link runRuntimeSuperExec}. */
export interface RuntimeSuperExecOptions extends RuntimeConnection {
  /** Path of the CA file passed on to app processes (`--root-certificates`). */
  readonly rootCertificatesPath?: string | undefined;
  /** Task types to acquire (e.g. `["flwr-clientapp"]`). */
  readonly taskTypes: readonly string[];
  /** The app executable for those tasks. */
  readonly app: RuntimeAppCommand;
  /** Master secret of SuperExec auth (the secret file's bytes), if the server requires it. */
  readonly authSecret?: Uint8Array | undefined;
  /** Poll interval (ms); default from `FLWR_SUPEREXEC_TASK_POLL_INTERVAL`, else 1000. */
  readonly pollIntervalMs?: number;
  /** Stops the loop. */
  readonly signal?: AbortSignal;
  /** Called after each launch (tests). */
  readonly onLaunch?: (taskId: bigint, runId: bigint, child: ChildProcess) => void;
}

const ACQUIRE_TASK = "/flwr.proto.Runtime/AcquireTask";

/** The Runtime API refused the SuperExec's AcquireTask (HTTP 401). */
export class SuperExecAuthError extends Error {
  constructor(address: string, signed: boolean, details: string) {
    super(
      `The Runtime API at ${address} refused SuperExec authentication (${details}): ` +
        (signed
          ? "--superexec-auth-secret-file must hold the secret the SuperLink/SuperNode was started with"
          : "it requires --superexec-auth-secret-file with the secret it was started with"),
    );
    this.name = "SuperExecAuthError";
  }
}

/**
 * 1.42's poll interval (`_get_task_poll_interval`), in ms.
 * @throws Error for a value that is not a number of seconds in [0.01, 60].
 */
export function taskPollIntervalMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env["FLWR_SUPEREXEC_TASK_POLL_INTERVAL"];
  if (raw === undefined) return 1000;
  const seconds = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(seconds) || seconds < 0.01 || seconds > 60)
    throw new Error(
      `Environment variable FLWR_SUPEREXEC_TASK_POLL_INTERVAL must be a finite number of seconds between 0.01 and 60.0, got '${raw}'.`,
    );
  return seconds * 1000;
}

/** Runs until `signal` aborts. */
export async function runRuntimeSuperExec(options: RuntimeSuperExecOptions): Promise<void> {
  const client = createRuntimeClient(options);
  const authSecret = options.authSecret ? deriveAuthSecret(options.authSecret) : undefined;
  const signal = options.signal ?? new AbortController().signal;
  const interval = options.pollIntervalMs ?? taskPollIntervalMs();
  try {
    while (!signal.aborted) {
      try {
        const request: AcquireTaskRequest = {
          supportedTaskTypes: [...options.taskTypes],
          agentappFabHashes: [],
        };
        let metadata: Metadata | undefined;
        if (authSecret) {
          metadata = new Metadata();
          const body = AcquireTaskRequest.encode(request).finish();
          for (const [k, v] of Object.entries(superExecAuthHeaders(authSecret, ACQUIRE_TASK, body)))
            metadata.set(k, v);
        }
        const res = await client.acquireTask(request, {
          signal,
          ...(metadata ? { metadata } : {}),
        });
        if (res.task && res.token) {
          const child = launch(options, res.token);
          appLog(
            "DEBUG",
            `Launched ${res.task.type} for task ${res.task.taskId} of run ${res.task.runId}`,
          );
          options.onLaunch?.(res.task.taskId, res.task.runId, child);
        }
      } catch (error) {
        if (signal.aborted) break;
        if (isServiceError(error) && error.code === Code.UNAUTHENTICATED)
          throw new SuperExecAuthError(options.address, authSecret !== undefined, error.details);
        appLog("WARNING", `SuperExec: ${error instanceof Error ? error.message : String(error)}`);
      }
      await abortableSleep(interval, signal);
    }
  } finally {
    client.close();
  }
}

function launch(options: RuntimeSuperExecOptions, token: string): ChildProcess {
  const args = [
    ...options.app.args,
    "--runtime-api-address",
    options.address,
    "--token",
    token,
    ...(options.insecure
      ? ["--insecure"]
      : options.rootCertificatesPath
        ? ["--root-certificates", options.rootCertificatesPath]
        : []),
    "--parent-pid",
    String(process.pid),
  ];
  // Like 1.42: a ClientApp's output stays visible (AutoExecPlugin.visible_output_task_types).
  const child = spawn(options.app.command, args, { stdio: "inherit" });
  child.on("error", (e) => appLog("ERROR", `SuperExec: could not launch the app: ${e.message}`));
  return child;
}
