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
