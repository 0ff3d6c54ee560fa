/**
 * Per-round metric charts as a self-contained HTML page: inline SVG line charts and the numbers
 * in a table, no scripts, no external resources, so it opens in any browser, offline. Pure
 * string building (core does no I/O): a ServerApp writes the page itself, e.g.
 * `writeFileSync("metrics.html", metricsChartHtml(result))`.
 *
 * Hand-written rather than a charting library: the ones for Node (vega, chart.js with a canvas)
 * need a DOM or a native canvas, and the page here is a few line charts.
 */
import type { MetricRecord } from "../records/metric-record.js";
import type { Result } from "./result.js";

/** One line of a chart: `[round, value]` points. */
export interface MetricSeries {
  /** Legend label. */
  readonly label: string;
  /** CSS colour; default from a fixed palette. */
  readonly color?: string;
  /** Points by server round; non-finite values are skipped. */
  readonly points: readonly (readonly [number, number])[];
}

/** One chart. */
export interface MetricChart {
  /** Chart title. */
  readonly title: string;
  /** Its lines. */
  readonly series: readonly MetricSeries[];
  /** Fixed top of the y axis (e.g. 1 for an accuracy); default a round number above the data. */
  readonly yMax?: number;
}

/** A page of charts. */
export interface MetricsPage {
  /** Page title. */
  readonly title: string;
  /** Lines shown under the title (dataset, duration, …). */
  readonly notes?: readonly string[];
  /** The charts, side by side. */
  readonly charts: readonly MetricChart[];
  /** A table under the charts; default one column per series of every chart. */
  readonly table?: {
    readonly columns: readonly string[];
    readonly rows: readonly (readonly (string | number | undefined)[])[];
  };
}

const WIDTH = 520;
const HEIGHT = 300;
const PAD = { left: 56, right: 16, top: 28, bottom: 44 };
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];

/** Escapes text for HTML and SVG content and attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(v));
  for (const step of [1, 2, 2.5, 5, 10]) if (v <= step * magnitude) return step * magnitude;
  return 10 * magnitude;
}

/**
 * One SVG line chart with axes, ticks, points (with hover titles) and a legend.
 * @param rounds - the last server round (x axis 1…rounds).
 */
export function lineChartSvg(chart: MetricChart, rounds: number): string {
  const values = chart.series.flatMap((s) => s.points.map(([, y]) => y)).filter(Number.isFinite);
  const yMax = chart.yMax ?? niceMax(Math.max(0, ...values));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (r: number) => PAD.left + (rounds <= 1 ? plotW / 2 : ((r - 1) / (rounds - 1)) * plotW);
  const y = (v: number) => PAD.top + plotH - (Math.min(Math.max(v, 0), yMax) / yMax) * plotH;
  const title = escapeHtml(chart.title);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${title}">`,
    `<text x="${WIDTH / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${title}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const v = (yMax * i) / 5;
    const yy = y(v).toFixed(1);
    parts.push(
      `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${yy}" y2="${yy}" stroke="#e5e5e5"/>`,
      `<text x="${PAD.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle" font-size="11">${Number(v.toPrecision(3))}</text>`,
    );
  }
  const every = Math.max(1, Math.ceil(rounds / 20));
  for (let r = 1; r <= rounds; r += every) {
    parts.push(
      `<text x="${x(r).toFixed(1)}" y="${HEIGHT - PAD.bottom + 16}" text-anchor="middle" font-size="11">${r}</text>`,
    );
  }
  parts.push(
    `<text x="${PAD.left + plotW / 2}" y="${HEIGHT - 8}" text-anchor="middle" font-size="12">server round</text>`,
    `<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${PAD.top + plotH}" stroke="#444"/>`,
    `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}" stroke="#444"/>`,
  );
  chart.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]!;
    const pts = s.points.filter(([, v]) => Number.isFinite(v));
    if (pts.length > 1) {
      const d = pts.map(([r, v]) => `${x(r).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
      parts.push(`<polyline points="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    }
    for (const [r, v] of pts) {
      parts.push(
        `<circle cx="${x(r).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3.5" fill="${color}"><title>${escapeHtml(`${s.label}, round ${r}: ${v.toFixed(4)}`)}</title></circle>`,
      );
    }
    const ly = PAD.top + 6 + i * 16;
    parts.push(
      `<rect x="${WIDTH - PAD.right - 130}" y="${ly - 5}" width="10" height="10" fill="${color}"/>`,
      `<text x="${WIDTH - PAD.right - 115}" y="${ly}" dominant-baseline="middle" font-size="11">${escapeHtml(s.label)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n");
}

function cell(v: string | number | undefined): string {
  if (v === undefined) return "–";
  if (typeof v === "number") return Number.isFinite(v) ? v.toFixed(4) : "NaN";
  return escapeHtml(v);
}

/** The last round any chart has a point for. */
function lastRound(charts: readonly MetricChart[]): number {
  let last = 0;
  for (const c of charts)
    for (const s of c.series) for (const [r] of s.points) last = Math.max(last, r);
  return last;
}

/** The default table: one row per round, one column per series of every chart. */
function defaultTable(charts: readonly MetricChart[]): NonNullable<MetricsPage["table"]> {
  const series = charts.flatMap((c) => c.series);
  const rows: (string | number | undefined)[][] = [];
  for (let r = 1; r <= lastRound(charts); r++)
    rows.push([r, ...series.map((s) => s.points.find(([pr]) => pr === r)?.[1])]);
  return { columns: ["round", ...series.map((s) => s.label)], rows };
}

/** The whole HTML page for `page`. */
export function metricsPageHtml(page: MetricsPage): string {
  const rounds = lastRound(page.charts);
  const table = page.table ?? defaultTable(page.charts);
  const head = table.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("");
  const rows = table.rows
    .map(
      (row) =>
        `<tr>${row.map((v, i) => `<td>${i === 0 ? String(v) : cell(v)}</td>`).join("")}</tr>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(page.title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
table { border-collapse: collapse; margin-top: 16px; }
td, th { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
p.note { margin: 2px 0; color: #555; }
</style>
</head>
<body>
<h1>${escapeHtml(page.title)}</h1>
${(page.notes ?? []).map((n) => `<p class="note">${escapeHtml(n)}</p>`).join("\n")}
<div class="charts">
${page.charts.map((c) => lineChartSvg(c, rounds)).join("\n")}
</div>
<table>
<tr>${head}</tr>
${rows}
</table>
</body>
</html>
`;
}

/** `[round, value]` points of `key` in per-round records (numbers and integers; lists skipped). */
function pointsOf(byRound: ReadonlyMap<number, MetricRecord>, key: string): [number, number][] {
  const out: [number, number][] = [];
  for (const [round, record] of [...byRound].sort(([a], [b]) => a - b)) {
    const v = record.get(key);
    if (typeof v === "number" || typeof v === "bigint") out.push([round, Number(v)]);
  }
  return out;
}

/**
 * The charts of a strategy's {@link Result}: one per metric name, with a line for each of the
 * ClientApp train, ClientApp evaluate and ServerApp evaluate metrics that has it (round 0, the
 * initial ServerApp evaluation, is left out of the x axis).
 */
export function resultCharts(result: Result): MetricChart[] {
  const phases = [
    ["train", result.trainMetricsClientapp],
    ["evaluate", result.evaluateMetricsClientapp],
    ["server", result.evaluateMetricsServerapp],
  ] as const;
  const keys: string[] = [];
  for (const [, byRound] of phases)
    for (const record of byRound.values())
      for (const [k, v] of record)
        if ((typeof v === "number" || typeof v === "bigint") && !keys.includes(k)) keys.push(k);
  return keys.map((key) => ({
    title: key,
    series: phases
      .map(([phase, byRound]) => ({
        label: `${phase} ${key}`,
        points: pointsOf(byRound, key).filter(([r]) => r >= 1),
      }))
      .filter((s) => s.points.length > 0),
  }));
}

/**
 * The page of a strategy's {@link Result}: {@link resultCharts} and their numbers.
 * @param options.title - page title (default "Flower run metrics").
 * @param options.notes - lines under the title.
 */
export function metricsChartHtml(
  result: Result,
  options: { title?: string; notes?: readonly string[] } = {},
): string {
  return metricsPageHtml({
    title: options.title ?? "Flower run metrics",
    notes: options.notes ?? [],
    charts: resultCharts(result),
  });
}
