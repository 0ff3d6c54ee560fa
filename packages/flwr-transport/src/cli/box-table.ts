/**
 * Box-drawing tables in the style of Python `rich`'s default `Table(show_lines=True)` as the
 * Flower CLI prints them:
 *
 * ```
 * ┏━━━━━━━━━┳━━━━━━━┓
 * ┃ Node ID ┃ Owner ┃      header row, centered
 * ┡━━━━━━━━━╇━━━━━━━┩
 * │ 1234    │ none  │      rows, left-aligned
 * ├─────────┼───────┤      a line between rows
 * │ 5678    │ none  │
 * └─────────┴───────┘
 * ```
 */

/** Display width of a string: wide (CJK, emoji) code points count 2, combining marks 0. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) continue;
    if (/\p{Mn}|\p{Me}|\u200d|\ufe0f/u.test(ch)) continue;
    width +=
      /\p{Extended_Pictographic}/u.test(ch) ||
      (cp >= 0x1100 && cp <= 0x115f) ||
      (cp >= 0x2e80 && cp <= 0xa4cf) ||
      (cp >= 0xac00 && cp <= 0xd7a3) ||
      (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe30 && cp <= 0xfe4f) ||
      (cp >= 0xff00 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6)
        ? 2
        : 1;
  }
  return width;
}

function pad(text: string, width: number, align: "left" | "center"): string {
  const gap = Math.max(0, width - displayWidth(text));
  if (align === "left") return text + " ".repeat(gap);
  const left = Math.floor(gap / 2);
  return " ".repeat(left) + text + " ".repeat(gap - left);
}

/**
 * Renders a table; every row must have one cell per header. Newlines in cells are replaced by
 * spaces (one line per row).
 * @returns the table's lines joined with `\n` (no trailing newline).
 */
export function renderBoxTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const clean = (s: string) => s.replace(/[\r\n\t]+/g, " ");
  const head = headers.map(clean);
  const body = rows.map((row, i) => {
    if (row.length !== headers.length) {
      throw new RangeError(`row ${i} has ${row.length} cells, expected ${headers.length}`);
    }
    return row.map(clean);
  });
  const widths = head.map((h, c) =>
    Math.max(displayWidth(h), ...body.map((row) => displayWidth(row[c]!))),
  );
  const rule = (l: string, fill: string, mid: string, r: string) =>
    l + widths.map((w) => fill.repeat(w + 2)).join(mid) + r;
  const line = (cells: readonly string[], edge: string, align: "left" | "center") =>
    edge + cells.map((cell, c) => ` ${pad(cell, widths[c]!, align)} `).join(edge) + edge;
  const out = [rule("┏", "━", "┳", "┓"), line(head, "┃", "center"), rule("┡", "━", "╇", "┩")];
  body.forEach((row, i) => {
    if (i > 0) out.push(rule("├", "─", "┼", "┤"));
    out.push(line(row, "│", "left"));
  });
  out.push(rule("└", "─", "┴", "┘"));
  return out.join("\n");
}
