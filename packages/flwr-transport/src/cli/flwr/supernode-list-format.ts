/**
 * Turning Control `ListNodes` results into Flower's `flwr supernode list` table and JSON:
 * nodes sorted by registration time; columns Node ID / Owner / Status / Elapsed /
 * Status Changed @; Elapsed (HH:MM:SS since activation) only for online nodes; Status Changed @
 * is the activation, deactivation or unregistration time as `YYYY-MM-DD HH:MM:SSZ`, or N/A for
 * registered nodes; unregistered nodes only with `--verbose` (the JSON lists them always, as
 * Flower's does).
 */
import type { NodeInfo } from "@flwr-ts/core/proto";
import { renderBoxTable } from "../box-table.js";

/** Column headers of the node table. */
export const NODE_TABLE_HEADERS = [
  "Node ID",
  "Owner",
  "Status",
  "Elapsed",
  "Status Changed @",
] as const;

const ISO = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)?$/;

/**
 * Parses a Python `isoformat()` timestamp (`2026-03-29T20:47:21.123456+00:00`).
 * @returns microseconds since the epoch, or undefined for an empty or malformed string.
 */
export function parseIsoMicros(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const m = ISO.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac = "", zone = "Z"] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(ms)) return undefined;
  let offsetMin = 0;
  if (zone !== "Z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
  }
  const micros = Number(`${frac}000000`.slice(0, 6));
  return (ms - offsetMin * 60_000) * 1000 + micros;
}

/** `YYYY-MM-DD HH:MM:SSZ` (UTC, seconds truncated like Python's `timespec="seconds"`), or N/A. */
export function formatStatusTime(text: string | undefined): string {
  const micros = parseIsoMicros(text);
  if (micros === undefined) return "N/A";
  const iso = new Date(Math.floor(micros / 1_000_000) * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}

/** A duration in seconds as `HH:MM:SS` (hours keep counting past 24). */
export function formatElapsed(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(h)}:${two(m)}:${two(s)}`;
}

/** One node, formatted. */
export interface FormattedNode {
  readonly nodeId: bigint;
  readonly ownerAid: string;
  readonly ownerName: string;
  readonly status: string;
  readonly createdAt: string;
  readonly onlineAt: string;
  readonly offlineAt: string;
  readonly deletedAt: string;
  /** Seconds since the last activation (0 when never activated). */
  readonly onlineElapsed: number;
}

/** Sorts by registration time and formats times relative to the server's `now`. */
export function formatNodes(nodes: readonly NodeInfo[], now: string): FormattedNode[] {
  const nowMicros = parseIsoMicros(now) ?? Date.now() * 1000;
  return [...nodes]
    .map((n, i) => ({ n, i, at: parseIsoMicros(n.registeredAt) ?? 0 }))
    .sort((a, b) => a.at - b.at || a.i - b.i)
    .map(({ n }) => {
      const activated = parseIsoMicros(n.lastActivatedAt);
      return {
        nodeId: n.nodeId,
        ownerAid: n.ownerAid,
        ownerName: n.ownerName,
        status: n.status,
        createdAt: formatStatusTime(n.registeredAt),
        onlineAt: formatStatusTime(n.lastActivatedAt),
        offlineAt: formatStatusTime(n.lastDeactivatedAt),
        deletedAt: formatStatusTime(n.unregisteredAt),
        onlineElapsed: activated === undefined ? 0 : (nowMicros - activated) / 1e6,
      };
    });
}

/**
 * The table rows.
 * @param verbose - include unregistered nodes.
 */
export function nodeTableRows(nodes: readonly FormattedNode[], verbose: boolean): string[][] {
  const rows: string[][] = [];
  for (const n of nodes) {
    let changed: string;
    switch (n.status) {
      case "online":
        changed = n.onlineAt;
        break;
      case "offline":
        changed = n.offlineAt;
        break;
      case "unregistered":
        if (!verbose) continue;
        changed = n.deletedAt;
        break;
      case "registered":
        changed = "N/A";
        break;
      default:
        changed = "N/A"; // a status this CLI does not know: show it, do not fail
    }
    rows.push([
      n.nodeId.toString(),
      n.ownerName,
      n.status,
      n.status === "online" ? formatElapsed(n.onlineElapsed) : "",
      changed,
    ]);
  }
  return rows;
}

/** The node table as text. */
export function renderNodeTable(
  nodes: readonly FormattedNode[],
  verbose: boolean,
  columns?: number,
): string {
  return renderBoxTable(NODE_TABLE_HEADERS, nodeTableRows(nodes, verbose), columns);
}

/** Flower's `--format json` document (`node-id` as a string, times formatted, elapsed in seconds). */
export function nodesToJson(nodes: readonly FormattedNode[]): {
  success: true;
  nodes: Record<string, string | number>[];
} {
  return {
    success: true,
    nodes: nodes.map((n) => ({
      "node-id": n.nodeId.toString(),
      "owner-aid": n.ownerAid,
      "owner-name": n.ownerName,
      status: n.status,
      "created-at": n.createdAt,
      "online-at": n.onlineAt,
      "online-elapsed": n.onlineElapsed,
      "offline-at": n.offlineAt,
      "deleted-at": n.deletedAt,
    })),
  };
}
