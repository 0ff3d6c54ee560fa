/**
 * The Control API's audit log: one INFO line per administrative call — RegisterNode,
 * UnregisterNode, StartRun, StopRun — naming the operator (`control-auth-middleware.ts`: a
 * certificate's CN, `token`, or `anonymous` when operator authentication is off), the peer, what
 * was asked and how it ended. A wrapper of the handlers, applied once where the Control service is
 * built, so both wires log alike and the handlers stay unaware of it:
 *
 * `Control audit: operator=alice (certificate) peer=127.0.0.1:51234 RegisterNode ok node_id=42`
 */
import type { ControlDefinition } from "@flwr-ts/core/proto";
import type { CallContext, ServiceHandlers } from "../../wire/call-context.js";
import { codeName } from "../../wire/code.js";
import { RpcError } from "../../wire/rpc-error.js";
import { untrusted } from "../../wire/untrusted-text.js";
import { operatorOf } from "../auth/control-auth-middleware.js";
import type { Logger } from "../logger.js";

type ControlHandlers = ServiceHandlers<typeof ControlDefinition>;

/** The audited rpcs, with what their request and response say worth logging. */
const AUDITED = {
  registerNode: {
    rpc: "RegisterNode",
    request: () => "",
    response: (r: unknown) => `node_id=${(r as { nodeId: bigint }).nodeId}`,
  },
  unregisterNode: {
    rpc: "UnregisterNode",
    request: (q: unknown) => `node_id=${(q as { nodeId: bigint }).nodeId}`,
    response: () => "",
  },
  startRun: {
    rpc: "StartRun",
    request: (q: unknown) => {
      const fab = (q as { fab?: { hashStr?: string } }).fab;
      return fab?.hashStr ? `fab=${untrusted(fab.hashStr).slice(0, 64)}` : "";
    },
    response: (r: unknown) => `run_id=${(r as { runId?: bigint }).runId ?? "?"}`,
  },
  stopRun: {
    rpc: "StopRun",
    request: (q: unknown) => `run_id=${(q as { runId: bigint }).runId}`,
    response: () => "",
  },
} as const;

function line(ctx: CallContext, rpc: string, outcome: string, ...details: string[]): string {
  const operator = operatorOf(ctx);
  return [
    `Control audit: operator=${operator.name} (${operator.via === "none" ? "no operator auth" : operator.via})`,
    `peer=${ctx.peer}`,
    rpc,
    outcome,
    ...details.filter((d) => d !== ""),
  ].join(" ");
}

/**
 * Wraps the audited Control handlers so each call logs one line once it ended (ok, or the
 * status it failed with); every other handler is returned as it is.
 */
export function withControlAudit(handlers: ControlHandlers, log: Logger): ControlHandlers {
  const audited = { ...handlers } as Record<string, unknown>;
  for (const [key, spec] of Object.entries(AUDITED)) {
    const handler = (
      handlers as unknown as Record<string, (q: unknown, c: CallContext) => unknown>
    )[key]!;
    audited[key] = async (request: unknown, ctx: CallContext) => {
      const asked = spec.request(request);
      try {
        const response = await handler(request, ctx);
        log("INFO", line(ctx, spec.rpc, "ok", asked, spec.response(response)));
        return response;
      } catch (error) {
        const status =
          error instanceof RpcError
            ? `${codeName(error.code)}: ${untrusted(error.details).slice(0, 200)}`
            : "INTERNAL";
        log("INFO", line(ctx, spec.rpc, `failed (${status})`, asked));
        throw error;
      }
    };
  }
  return audited as unknown as ControlHandlers;
}
