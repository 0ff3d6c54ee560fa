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

/** `text` cut to `width` columns, ending with `…` when it was longer. */
export function truncateCell(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  let out = "";
  for (const ch of text) {
    if (displayWidth(out + ch) > width - 1) break;
    out += ch;
  }
  return `${out}…`;
}

/** A cell's lines at `width`: wrapped at spaces, a word longer than a line cut with `…`. */
function fitCell(text: string, width: number): string[] {
  if (displayWidth(text) <= width) return [text];
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/ +/)) {
    const w = truncateCell(word, width);
    if (line === "") line = w;
    else if (displayWidth(line) + 1 + displayWidth(w) <= width) line += ` ${w}`;
    else {
      lines.push(line);
      line = w;
    }
  }
  lines.push(line);
  return lines;
}

/** The narrowest a column gets when the table is fitted to the terminal. */
const MIN_COLUMN_WIDTH = 4;

/**
 * Renders a table; every row must have one cell per header. Newlines in cells are replaced by
 * spaces. Fitted to `maxWidth` columns (the terminal's, e.g. `process.stdout.columns`) as rich
 * fits Flower's tables: the widest columns are narrowed first and their cells wrap at spaces
 * (a word longer than its column ends with `…`); without `maxWidth` (not a terminal: piped
 * output) every cell is shown in full on one line.
 * @returns the table's lines joined with `\n` (no trailing newline).
 */
export function renderBoxTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  maxWidth?: number,
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
  if (maxWidth !== undefined) {
    // Borders and padding: "│ " before each column, " │" after the last.
    const budget = maxWidth - (3 * widths.length + 1);
    let total = widths.reduce((a, w) => a + w, 0);
    while (total > budget) {
      const widest = Math.max(...widths);
      if (widest <= MIN_COLUMN_WIDTH) break;
      widths[widths.indexOf(widest)] = widest - 1;
      total -= 1;
    }
  }
  const rule = (l: string, fill: string, mid: string, r: string) =>
    l + widths.map((w) => fill.repeat(w + 2)).join(mid) + r;
  const lines = (cells: readonly string[], edge: string, align: "left" | "center") => {
    const fitted = cells.map((cell, c) => fitCell(cell, widths[c]!));
    const height = Math.max(...fitted.map((f) => f.length));
    return Array.from(
      { length: height },
      (_, i) =>
        edge + fitted.map((f, c) => ` ${pad(f[i] ?? "", widths[c]!, align)} `).join(edge) + edge,
    );
  };
  const out = [rule("┏", "━", "┳", "┓"), ...lines(head, "┃", "center"), rule("┡", "━", "╇", "┩")];
  body.forEach((row, i) => {
    if (i > 0) out.push(rule("├", "─", "┼", "┤"));
    out.push(...lines(row, "│", "left"));
  });
  out.push(rule("└", "─", "┴", "┘"));
  return out.join("\n");
}
