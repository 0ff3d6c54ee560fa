/**
 * The run rpcs of the Control API (`flwr run`, `flwr ls`, `flwr log`, `flwr stop`) with Flower
 * 1.29's semantics (`flwr.superlink.servicer.control.control_servicer`):
 *
 * - **StartRun**: FAB ≤ 10 MiB (else an empty response, which the CLI shows as "Failed to start
 *   run"), federation checks, override keys must exist in the FAB's `[tool.flwr.app.config]`
 *   (FAILED_PRECONDITION "Key 'x' is not present in the main dictionary"), the FAB is stored under
 *   its SHA-256, a `pending` run and its ServerApp context (node 1, empty state and run config).
 * - **ListRuns**: the caller's runs, newest first, or one run (NOT_FOUND "Run ID not found").
 * - **StopRun**: `finished:stopped`, token, messages and objects deleted; FAILED_PRECONDITION
 *   for an already finished run.
 * - **StreamLogs**: the ServerApp's logs after `after_timestamp`; push-based (woken by new log
 *   lines and status changes instead of Flower's 0.5 s polling); ends when the run is finished.
 */
import { createHash } from "node:crypto";
import {
  type ListRunsRequest,
  type Scalar,
  SimulationConfig,
  type StartRunRequest,
  type StopRunRequest,
  type StreamLogsRequest,
  type StreamLogsResponse,
} from "@flwr-ts/core/proto";
import type { ObjectStore } from "../../object-store/object-store.js";
import {
  DEFAULT_SIMULATION_CONFIG,
  mergeSimulationConfig,
  simulationSettings,
} from "../../simulation/simulation-settings.js";
import type { CallContext } from "../../wire/call-context.js";
import { Code } from "../../wire/code.js";
import { ApiErrorCode } from "../../wire/http/api-errors.js";
import { RpcError } from "../../wire/rpc-error.js";
import { untrusted } from "../../wire/untrusted-text.js";
import type { Logger } from "../logger.js";
import {
  type LinkState,
  NOOP_FEDERATION,
  RunStatusValue,
  RunSubStatus,
  RunType,
  SUPERLINK_NODE_ID,
} from "../state/link-state.js";
import { isoTimestamp } from "../state/state-values.js";
import { waitForChange } from "../state/wait-for-change.js";
import { type AccountResolver, noopAccountResolver } from "./account.js";
import type { ControlRunHandlers } from "./control-servicer.js";

/** Flower's `FAB_MAX_SIZE`: 10 MiB. */
export const FAB_MAX_SIZE = 10 * 1024 * 1024;

/** Flower's `RUN_ID_NOT_FOUND_MESSAGE`. */
export const RUN_ID_NOT_FOUND_MESSAGE = "Run ID not found";

/** What the SuperLink needs to know about a FAB. */
export interface FabMetadata {
  /** `<publisher>/<name>`. */
  readonly fabId: string;
  /** The app version. */
  readonly fabVersion: string;
  /** Keys of the flattened `[tool.flwr.app.config]` (dotted). */
  readonly configKeys: ReadonlySet<string>;
}

/**
 * Reads a FAB (zip) and returns its identity and config keys.
 * @throws Error with a message saying what is wrong (becomes FAILED_PRECONDITION).
 */
export type FabInspector = (content: Uint8Array) => FabMetadata | Promise<FabMetadata>;

/** Options of {@link createControlRunHandlers}. */
export interface ControlRunsOptions {
  /** SuperLink state. */
  state: LinkState;
  /** Object store (cleaned when runs stop or finish). */
  store: ObjectStore;
  /** Reads FABs (the FAB reader of `@flwr-ts/core`). */
  inspectFab: FabInspector;
  /** The caller's account; default NoOp. */
  account?: AccountResolver;
  /** Log sink; default silent. */
  log?: Logger;
  /** Clock in epoch ms; default `Date.now`. */
  clock?: () => number;
  /** Longest quiet wait of StreamLogs before re-checking the run (ms, default 2000). */
  logRecheckMs?: number;
  /**
   * A simulation SuperLink (`--simulation`): every run is a simulation whose federation config
   * is Flower's default merged with the request's `override_federation_config` (as 1.29's
   * ControlServicer does for a federation with a simulation config).
   */
  simulation?: boolean;
}

/**
 * Checks `override` keys against the FAB's config keys (Flower's `fuse_dicts`).
 * @throws Error "Key 'x' is not present in the main dictionary".
 */
export function checkOverrideKeys(
  configKeys: ReadonlySet<string>,
  override: ReadonlyMap<string, Scalar>,
): void {
  for (const key of override.keys())
    if (!configKeys.has(key))
      throw new Error(`Key '${untrusted(key)}' is not present in the main dictionary`);
}

/** Builds StartRun, ListRuns, StopRun and StreamLogs. */
export function createControlRunHandlers(options: ControlRunsOptions): ControlRunHandlers {
  const { state, store, inspectFab } = options;
  const account = options.account ?? noopAccountResolver;
  const log = options.log ?? (() => {});
  const clock = options.clock ?? Date.now;
  const recheckMs = options.logRecheckMs ?? 2000;

  const runOrNotFound = (runId: bigint) => {
    const run = state.getRunInfo({ runIds: [runId] })[0];
    if (!run)
      throw new RpcError(Code.NOT_FOUND, RUN_ID_NOT_FOUND_MESSAGE, {
        apiErrorCode: ApiErrorCode.RUN_ID_NOT_FOUND,
      });
    return run;
  };

  /** Flower's `_validate_federation_membership_in_request` with the NoOp federation manager. */
  const checkMembership = (_ctx: CallContext, federation: string): void => {
    if (federation !== NOOP_FEDERATION)
      throw new RpcError(
        Code.FAILED_PRECONDITION,
        `Federation '${untrusted(federation)}' does not exist.`,
      );
  };

  const handlers: ControlRunHandlers = {
    startRun: async (request: StartRunRequest, ctx: CallContext) => {
      log("INFO", "ControlServicer.StartRun");
      if (request.appSpec)
        throw new RpcError(
          Code.FAILED_PRECONDITION,
          `This SuperLink cannot fetch apps by specification ('${untrusted(request.appSpec)}'); run the app from its directory: flwr run <app-dir> <federation>`,
        );
      const content = request.fab?.content ?? Buffer.alloc(0);
      if (content.length > FAB_MAX_SIZE) {
        log("ERROR", `FAB size exceeds maximum allowed size of ${FAB_MAX_SIZE} bytes.`);
        return { runId: undefined, federation: "" };
      }
      const federation = request.federation || NOOP_FEDERATION;
      if (federation !== NOOP_FEDERATION) {
        if (request.federation)
          throw new RpcError(
            Code.NOT_FOUND,
            "Federation not found, archived, or you cannot perform this action.",
          );
      }
      const { flwrAid } = account(ctx);
      try {
        const meta = await inspectFab(content);
        checkOverrideKeys(meta.configKeys, request.overrideConfig);
        const hash = createHash("sha256").update(content).digest("hex");
        if (request.fab?.hashStr && request.fab.hashStr !== hash)
          throw new Error(
            `FAB (${untrusted(request.fab.hashStr)}) hash from request doesn't match contents`,
          );
        state.storeFab({
          hashStr: hash,
          content,
          verifications: request.fab?.verifications ?? new Map(),
        });
        const federationConfig = options.simulation
          ? mergeSimulationConfig(DEFAULT_SIMULATION_CONFIG, request.overrideFederationConfig)
          : undefined;
        if (federationConfig) simulationSettings(federationConfig); // rejects a bad config now
        const runId = state.createRun({
          fabId: meta.fabId,
          fabVersion: meta.fabVersion,
          fabHash: hash,
          overrideConfig: request.overrideConfig,
          federation,
          flwrAid,
          runType: federationConfig ? RunType.SIMULATION : RunType.SERVER_APP,
          federationConfig: federationConfig
            ? SimulationConfig.encode(federationConfig).finish()
            : undefined,
        });
        state.setServerAppContext(runId, {
          runId,
          nodeId: SUPERLINK_NODE_ID,
          nodeConfig: new Map(),
          state: { items: [] },
          runConfig: new Map(),
          seriesId: 0n,
        });
        log("INFO", `Created ${federationConfig ? "simulation" : "serverapp"} run ${runId}`);
        return { runId, federation: "" };
      } catch (error) {
        if (error instanceof RpcError) throw error;
        const message = error instanceof Error ? error.message : String(error);
        log("ERROR", `Could not start run: ${message}`);
        throw new RpcError(Code.FAILED_PRECONDITION, message);
      }
    },

    listRuns: (request: ListRunsRequest, ctx: CallContext) => {
      log("INFO", "ControlServicer.ListRuns");
      const { flwrAid } = account(ctx);
      let runs: ReturnType<LinkState["getRunInfo"]>;
      if (request.runId === undefined) {
        runs = state.getRunInfo({
          flwrAids: [flwrAid],
          orderBy: "pending_at",
          ascending: false,
          ...(request.limit !== undefined ? { limit: Number(request.limit) } : {}),
        });
      } else {
        runs = [runOrNotFound(request.runId)];
        checkMembership(ctx, runs[0]!.federation);
      }
      for (const run of runs)
        if (run.status?.status === RunStatusValue.FINISHED) store.deleteRun(run.runId);
      return {
        runDict: new Map(runs.map((run) => [run.runId, run])),
        now: isoTimestamp(clock()),
      };
    },

    stopRun: (request: StopRunRequest, ctx: CallContext) => {
      log("INFO", "ControlServicer.StopRun");
      const run = runOrNotFound(request.runId);
      checkMembership(ctx, run.federation);
      if (run.status?.status === RunStatusValue.FINISHED)
        throw new RpcError(
          Code.FAILED_PRECONDITION,
          `Run ID ${request.runId} is already finished`,
          {
            apiErrorCode: ApiErrorCode.RUN_ALREADY_FINISHED,
          },
        );
      const success = state.updateRunStatus(request.runId, {
        status: RunStatusValue.FINISHED,
        subStatus: RunSubStatus.STOPPED,
        details: "",
      });
      state.deleteToken(request.runId);
      if (success) {
        state.deleteMessages(state.getMessageIdsFromRunId(request.runId));
        store.deleteRun(request.runId);
      }
      return { success };
    },

    streamLogs: async function* (
      request: StreamLogsRequest,
      ctx: CallContext,
    ): AsyncIterable<StreamLogsResponse> {
      log("INFO", "ControlServicer.StreamLogs");
      const runId = request.runId;
      const run = runOrNotFound(runId);
      checkMembership(ctx, run.federation);
      let after = request.afterTimestamp + 1e-6;
      while (!ctx.signal.aborted) {
        // Subscribe before reading so that nothing between read and wait is missed.
        const changed = waitForChange(
          state,
          (e) => (e.type === "log" || e.type === "run") && e.runId === runId,
          { timeoutMs: recheckMs, signal: ctx.signal },
        );
        const { logs, latestTimestamp } = state.getServerAppLog(runId, after);
        if (logs) {
          yield { logOutput: logs, latestTimestamp };
          after = Math.max(latestTimestamp + 1e-6, after);
        }
        const current = state.getRunInfo({ runIds: [runId] })[0];
        if (!current || current.status?.status === RunStatusValue.FINISHED) {
          // Last read after the status change, so lines pushed just before it are included.
          const tail = state.getServerAppLog(runId, after);
          if (tail.logs) yield { logOutput: tail.logs, latestTimestamp: tail.latestTimestamp };
          log("INFO", `All logs for run ID \`${runId}\` returned`);
          store.deleteRun(runId);
          return;
        }
        await changed;
      }
    },
  };
  return handlers;
}
