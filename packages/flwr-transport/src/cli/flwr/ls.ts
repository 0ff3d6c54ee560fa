/**
 * `flwr ls [app-dir] [federation] [--run-id ID] [--limit N] [--format json]` (also `flwr list`;
 * or Flower 1.42's `flwr ls [connection]`):
 * the runs on the federation's SuperLink, newest first, as Python Flower's `flwr ls` shows them
 * (table columns Run ID | Federation | App | Status | Elapsed | Status Changed @).
 */
import type { CliSpec } from "@flwr-ts/core/cli";
import type { Run } from "@flwr-ts/core/proto";
import { renderBoxTable } from "../box-table.js";
import { UsageError } from "../cli-error.js";
import { type CliCommand, parseCommandArgs } from "../command.js";
import { withControl } from "../control-client.js";
import { loadTarget } from "../control-target.js";
import { CommandOutput, parseOutputFormat } from "../output-format.js";
import { FORMAT_OPTION, TARGET_ARGUMENTS, TARGET_EPILOG, targetUsage } from "./common-options.js";
import { parseRunId } from "./log.js";

const SPEC: CliSpec = {
  name: "flwr ls",
  description: "List runs, or show one run.",
  usage: targetUsage("flwr ls"),
  arguments: TARGET_ARGUMENTS,
  options: [
    { name: "run-id", metavar: "ID", help: "Show only this run." },
    { name: "limit", metavar: "N", help: "At most N runs (newest first)." },
    FORMAT_OPTION,
  ],
  epilog: TARGET_EPILOG,
};

/** A run as `flwr ls` shows it. */
export interface RunRow {
  readonly runId: bigint;
  readonly federation: string;
  readonly fabId: string;
  readonly fabVersion: string;
  readonly fabHash: string;
  readonly statusText: string;
  readonly elapsed: number;
  readonly pendingAt: string;
  readonly startingAt: string;
  readonly runningAt: string;
  readonly finishedAt: string;
  readonly bytesRecv: number;
  readonly bytesSent: number;
  readonly clientappRuntime: number;
}

/** `YYYY-MM-DD HH:MM:SSZ` (Python's `isoformat8601_utc` with a space), or `N/A`. */
export function formatTimestamp(iso: string): string {
  if (!iso) return "N/A";
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")}Z`;
}

/** Python Flower's `humanize_duration`. */
export function humanizeDuration(seconds: number): string {
  const s = Math.trunc(seconds);
  if (s < 90) return `${s}s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes}m ${s % 60}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** Rows for the runs, newest first (Python's `format_runs`). */
export function formatRuns(runs: Iterable<Run>, now: string): RunRow[] {
  const nowMs = Date.parse(now) || Date.now();
  return [...runs]
    .sort((a, b) => (a.pendingAt < b.pendingAt ? 1 : a.pendingAt > b.pendingAt ? -1 : 0))
    .map((run) => {
      const st = run.status;
      const statusText = !st ? "" : st.subStatus ? `${st.status}:${st.subStatus}` : st.status;
      const running = run.runningAt ? Date.parse(run.runningAt) : undefined;
      const end = run.finishedAt ? Date.parse(run.finishedAt) : nowMs;
      return {
        runId: run.runId,
        federation: run.federation,
        fabId: run.fabId,
        fabVersion: run.fabVersion,
        fabHash: run.fabHash,
        statusText,
        elapsed: running === undefined ? 0 : Math.max(0, (end - running) / 1000),
        pendingAt: formatTimestamp(run.pendingAt),
        startingAt: formatTimestamp(run.startingAt),
        runningAt: formatTimestamp(run.runningAt),
        finishedAt: formatTimestamp(run.finishedAt),
        bytesRecv: Number(run.bytesRecv),
        bytesSent: Number(run.bytesSent),
        clientappRuntime: run.clientappRuntime,
      };
    });
}

/** The table of `flwr ls`. */
export function renderRunTable(rows: readonly RunRow[], columns?: number): string {
  return renderBoxTable(
    ["Run ID", "Federation", "App", "Status", "Elapsed", "Status Changed @"],
    rows.map((r) => [
      r.runId.toString(),
      r.federation,
      `@${r.fabId}==${r.fabVersion}`,
      r.statusText,
      humanizeDuration(r.elapsed),
      [r.finishedAt, r.runningAt, r.startingAt, r.pendingAt].find((t) => t !== "N/A") ?? "N/A",
    ]),
    columns,
  );
}

/** The JSON document of `flwr ls --format json`. */
export function runsToJson(rows: readonly RunRow[]): unknown {
  return {
    success: true,
    runs: rows.map((r) => ({
      "run-id": r.runId.toString(),
      federation: r.federation,
      "fab-id": r.fabId,
      "fab-name": r.fabId.split("/").pop(),
      "fab-version": r.fabVersion,
      "fab-hash": r.fabHash,
      status: r.statusText,
      elapsed: r.elapsed,
      "pending-at": r.pendingAt,
      "starting-at": r.startingAt,
      "running-at": r.runningAt,
      "finished-at": r.finishedAt,
      "network-traffic": {
        "inbound-bytes": r.bytesRecv,
        "outbound-bytes": r.bytesSent,
        "total-bytes": r.bytesRecv + r.bytesSent,
      },
      "compute-time": {
        "serverapp-seconds": r.elapsed,
        "clientapp-seconds": r.clientappRuntime,
        "total-seconds": r.elapsed + r.clientappRuntime,
      },
    })),
  };
}

/** The `flwr ls` command. */
export const command: CliCommand = {
  spec: SPEC,
  async run(argv, io) {
    const parsed = parseCommandArgs(SPEC, argv);
    const [first, second, extra] = parsed.positionals;
    if (extra !== undefined) throw new UsageError(`Got unexpected extra argument '${extra}'.`);
    const runIdText = parsed.values["run-id"] as string | undefined;
    const limitText = parsed.values["limit"] as string | undefined;
    if (runIdText !== undefined && limitText !== undefined)
      throw new UsageError("The options '--run-id' and '--limit' cannot be used together.");
    if (limitText !== undefined && !/^[1-9]\d*$/.test(limitText))
      throw new UsageError(`--limit must be a positive integer, got '${limitText}'`);
    const runId = runIdText === undefined ? undefined : parseRunId(runIdText);
    const out = new CommandOutput(
      io,
      parseOutputFormat(parsed.values["format"] as string | undefined),
    );
    return out.guard(async () => {
      const federation = loadTarget(first, second);
      out.line(
        runId === undefined
          ? "📄 Listing all runs..."
          : `🔍 Displaying information for run ID ${runId}...`,
      );
      const res = await withControl(federation, (client, timeoutMs) =>
        client.listRuns(
          { runId, limit: limitText === undefined ? undefined : BigInt(limitText) },
          { timeoutMs },
        ),
      );
      const rows = formatRuns(res.runDict.values(), res.now);
      if (out.json) out.document(runsToJson(rows));
      else out.line(renderRunTable(rows, io.columns));
      return 0;
    });
  },
};
