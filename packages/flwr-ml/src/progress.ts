/**
 * A dependency-free progress bar on a TTY stream (one line, redrawn in place).
 */

/** Draws `label [#####.....] done/total suffix` on a TTY; does nothing elsewhere. */
export class ProgressBar {
  private lastDraw = 0;
  private readonly enabled: boolean;

  /**
   * @param label - text before the bar.
   * @param total - the count that fills the bar.
   * @param stream - where to draw (default stderr); drawing only happens on a TTY.
   */
  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.enabled = Boolean(stream.isTTY);
  }

  /** Redraws (at most every 100 ms unless `force`). */
  update(done: number, suffix = "", force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const width = 24;
    const filled =
      this.total > 0 ? Math.min(width, Math.round((done / this.total) * width)) : width;
    const bar = "#".repeat(filled) + ".".repeat(width - filled);
    this.stream.write(`\r${this.label} [${bar}] ${done}/${this.total} ${suffix}\u001b[K`);
  }

  /** Draws the final state and ends the line. */
  finish(done: number, suffix = ""): void {
    if (!this.enabled) return;
    this.update(done, suffix, true);
    this.stream.write("\n");
  }
}
