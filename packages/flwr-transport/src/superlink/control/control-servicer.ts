/**
 * The Control API (CLI → SuperLink), composed of one handler group per concern so that later
 * groups (runs: StartRun/ListRuns/StopRun/StreamLogs) plug in without touching the others:
 * pass them as `runHandlers`. Until they exist, run rpcs answer UNIMPLEMENTED.
 */
import type { ControlDefinition } from "@flwr-ts/core/proto";
import type { ObjectStore } from "../../object-store/object-store.js";
import type { ServiceHandlers } from "../../wire/call-context.js";
import { Code } from "../../wire/code.js";
import { RpcError } from "../../wire/rpc-error.js";
import type { LinkState } from "../state/link-state.js";
import { type AccountResolver, noopAccountResolver } from "./account.js";
import { createLoginHandlers } from "./account-login-handlers.js";
import { createFederationHandlers } from "./federation-handlers.js";
import { createNodeHandlers } from "./node-handlers.js";

/** The run rpcs of the Control API. */
export type ControlRunHandlers = Pick<
  ServiceHandlers<typeof ControlDefinition>,
  "startRun" | "stopRun" | "streamLogs" | "listRuns"
>;

/** Options of {@link createControlHandlers}. */
export interface ControlServicerOptions {
  /** SuperLink state. */
  state: LinkState;
  /** Object store (for run clean-up by the run handlers). */
  store: ObjectStore;
  /** The caller's account; default the NoOp account. */
  account?: AccountResolver;
  /** Run rpcs; default UNIMPLEMENTED. */
  runHandlers?: ControlRunHandlers;
  /** Clock in epoch ms; default `Date.now`. */
  clock?: () => number;
  /**
   * Epoch ms of the SuperLink's start (ListNodes lists online nodes that have not sent a
   * heartbeat since as offline); default: when the handlers are created.
   */
  startedAtMs?: number;
}

const notYet = (): never => {
  throw new RpcError(Code.UNIMPLEMENTED, "Runs are not supported by this SuperLink yet.");
};

/** Run rpcs that answer UNIMPLEMENTED. */
export const unimplementedRunHandlers: ControlRunHandlers = {
  startRun: notYet,
  stopRun: notYet,
  listRuns: notYet,
  // biome-ignore lint/correctness/useYield: always fails.
  streamLogs: async function* () {
    notYet();
  },
};

/** Builds every Control rpc handler. */
export function createControlHandlers(
  options: ControlServicerOptions,
): ServiceHandlers<typeof ControlDefinition> {
  const account = options.account ?? noopAccountResolver;
  const deps = {
    state: options.state,
    account,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.startedAtMs !== undefined ? { startedAtMs: options.startedAtMs } : {}),
  };
  return {
    ...(options.runHandlers ?? unimplementedRunHandlers),
    ...createLoginHandlers(),
    ...createNodeHandlers(deps),
    ...createFederationHandlers(deps),
  };
}
