import type { NodeInfo } from "@flwr-ts/core/proto";
import { describe, expect, test } from "vitest";
import {
  formatElapsed,
  formatNodes,
  formatStatusTime,
  nodesToJson,
  nodeTableRows,
  parseIsoMicros,
  renderNodeTable,
} from "./supernode-list-format.js";

function node(init: Partial<NodeInfo>): NodeInfo {
  return {
    nodeId: 0n,
    ownerAid: "<id:none>",
    ownerName: "none",
    status: "registered",
    registeredAt: "",
    heartbeatInterval: 30,
    publicKey: Buffer.alloc(0),
    ...init,
  };
}

const NOW = "2026-03-29T12:00:30.500000+00:00";
const nodes = [
  node({
    nodeId: 18446744073709551615n,
    status: "online",
    registeredAt: "2026-03-29T11:00:00.000001+00:00",
    lastActivatedAt: "2026-03-29T12:00:00.250000+00:00",
  }),
  node({ nodeId: 2n, status: "registered", registeredAt: "2026-03-29T10:00:00+00:00" }),
  node({
    nodeId: 3n,
    status: "offline",
    registeredAt: "2026-03-29T11:30:00+00:00",
    lastActivatedAt: "2026-03-29T11:40:00+00:00",
    lastDeactivatedAt: "2026-03-29T11:41:59.999999+00:00",
  }),
  node({
    nodeId: 4n,
    status: "unregistered",
    registeredAt: "2026-03-29T11:45:00+00:00",
    unregisteredAt: "2026-03-29T11:50:00+00:00",
  }),
];

describe("flwr supernode list formatting", () => {
  test("ISO timestamps with microseconds and offsets", () => {
    expect(parseIsoMicros("1970-01-01T00:00:01.000002+00:00")).toBe(1_000_002);
    expect(parseIsoMicros("1970-01-01T01:00:00+01:00")).toBe(0);
    expect(parseIsoMicros("1970-01-01T00:00:00Z")).toBe(0);
    expect(parseIsoMicros("")).toBeUndefined();
    expect(parseIsoMicros("yesterday")).toBeUndefined();
    expect(formatStatusTime("2025-10-13T13:40:47.999999+00:00")).toBe("2025-10-13 13:40:47Z");
    expect(formatStatusTime(undefined)).toBe("N/A");
  });

  test("elapsed as HH:MM:SS", () => {
    expect(formatElapsed(30.9)).toBe("00:00:30");
    expect(formatElapsed(3 * 3600 + 61)).toBe("03:01:01");
    expect(formatElapsed(100 * 3600)).toBe("100:00:00");
    expect(formatElapsed(-2)).toBe("00:00:00");
  });

  test("rows sorted by registration; elapsed only when online; unregistered only verbose", () => {
    const formatted = formatNodes(nodes, NOW);
    expect(nodeTableRows(formatted, false)).toEqual([
      ["2", "none", "registered", "", "N/A"],
      ["18446744073709551615", "none", "online", "00:00:30", "2026-03-29 12:00:00Z"],
      ["3", "none", "offline", "", "2026-03-29 11:41:59Z"],
    ]);
    expect(nodeTableRows(formatted, true).at(-1)).toEqual([
      "4",
      "none",
      "unregistered",
      "",
      "2026-03-29 11:50:00Z",
    ]);
    expect(renderNodeTable(formatted, false).split("\n")).toHaveLength(9);
  });

  test("JSON has Flower's keys, node ids as strings, and lists unregistered nodes", () => {
    const json = nodesToJson(formatNodes(nodes, NOW));
    expect(json.success).toBe(true);
    expect(json.nodes).toHaveLength(4);
    expect(json.nodes[1]).toEqual({
      "node-id": "18446744073709551615",
      "owner-aid": "<id:none>",
      "owner-name": "none",
      status: "online",
      "created-at": "2026-03-29 11:00:00Z",
      "online-at": "2026-03-29 12:00:00Z",
      "online-elapsed": 30.25,
      "offline-at": "N/A",
      "deleted-at": "N/A",
    });
  });
});
