import { describe, expect, test } from "vitest";
import { displayWidth, renderBoxTable } from "./box-table.js";

describe("renderBoxTable", () => {
  test("matches rich's layout as printed by Python flwr supernode list", () => {
    // Captured from Python flwr 1.29 `flwr supernode list` (two rows).
    const expected = [
      "┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━┓",
      "┃       Node ID       ┃ Owner ┃   Status   ┃ Elapsed ┃   Status Changed @   ┃",
      "┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━┩",
      "│ 4559067463024012807 │ none  │ offline    │         │ 2026-11-26 14:25:20Z │",
      "├─────────────────────┼───────┼────────────┼─────────┼──────────────────────┤",
      "│ 8904616260865008986 │ none  │ registered │         │ N/A                  │",
      "└─────────────────────┴───────┴────────────┴─────────┴──────────────────────┘",
    ].join("\n");
    const table = renderBoxTable(
      ["Node ID", "Owner", "Status", "Elapsed", "Status Changed @"],
      [
        ["4559067463024012807", "none", "offline", "", "2026-11-26 14:25:20Z"],
        ["8904616260865008986", "none", "registered", "", "N/A"],
      ],
    );
    expect(table).toBe(expected);
  });

  test("odd centering puts the extra space on the right; no rows gives header and bottom", () => {
    expect(renderBoxTable(["ab", "c"], []).split("\n")).toEqual([
      "┏━━━━┳━━━┓",
      "┃ ab ┃ c ┃",
      "┡━━━━╇━━━┩",
      "└────┴───┘",
    ]);
    expect(renderBoxTable(["x"], [["abcd"]]).split("\n")[1]).toBe("┃  x   ┃");
  });

  test("wide characters count twice; newlines in cells become spaces", () => {
    expect(displayWidth("📄 ok")).toBe(5);
    expect(displayWidth("名前")).toBe(4);
    const lines = renderBoxTable(["名前"], [["a\nb"]]).split("\n");
    expect(lines[3]).toBe("│ a b  │");
  });

  test("a row with the wrong number of cells is an error", () => {
    expect(() => renderBoxTable(["a", "b"], [["1"]])).toThrow(RangeError);
  });
});

describe("renderBoxTable fitted to the terminal", () => {
  const headers = ["Node ID", "Owner", "Status", "Elapsed", "Status Changed @"];
  const rows = [
    [
      "1234567890123456789",
      "flwr-ts operator with a long name",
      "online",
      "1m 5s",
      "2026-12-07 20:00:00Z",
    ],
    ["42", "none", "registered", "", "N/A"],
  ];
  const width = (table: string) => Math.max(...table.split("\n").map((l) => displayWidth(l)));

  test("60 columns: no line is wider; long cells wrap at spaces or end with …", () => {
    const table = renderBoxTable(headers, rows, 60);
    expect(width(table)).toBeLessThanOrEqual(60);
    expect(table).toContain("…");
    // Every line of the table has the same width (the box stays closed).
    expect(new Set(table.split("\n").map((l) => displayWidth(l))).size).toBe(1);
  });

  test("200 columns and no limit (piped): every cell in full on one line", () => {
    const full = renderBoxTable(headers, rows);
    expect(renderBoxTable(headers, rows, 200)).toBe(full);
    expect(full).not.toContain("…");
    expect(full).toContain("flwr-ts operator with a long name");
    expect(full.split("\n")).toHaveLength(7);
  });
});
