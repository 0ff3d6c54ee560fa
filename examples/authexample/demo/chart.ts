/**
 * The per-round chart of a run: a self-contained HTML page with two inline SVG line charts
 * (loss: train and evaluate; accuracy: evaluate) and the numbers in a table. No scripts, no
 * external resources: it opens in any browser, offline.
 */
import type { MetricJson, RunMetrics } from "../authexample/final-model.js";

/** One line of a chart. */
interface Series {
  label: string;
  color: string;
  points: [number, number][];
}

const WIDTH = 520;
const HEIGHT = 300;
const PAD = { left: 56, right: 16, top: 28, bottom: 44 };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(v));
  for (const step of [1, 2, 2.5, 5, 10]) if (v <= step * magnitude) return step * magnitude;
  return 10 * magnitude;
}

/** One SVG line chart with axes, ticks, points and a legend. */
export function lineChartSvg(
  title: string,
  series: readonly Series[],
  rounds: number,
  yFixedMax?: number,
): string {
  const values = series.flatMap((s) => s.points.map(([, y]) => y)).filter(Number.isFinite);
  const yMax = yFixedMax ?? niceMax(Math.max(0, ...values));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (r: number) => PAD.left + (rounds <= 1 ? plotW / 2 : ((r - 1) / (rounds - 1)) * plotW);
  const y = (v: number) => PAD.top + plotH - (Math.min(Math.max(v, 0), yMax) / yMax) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeHtml(title)}">`,
    `<text x="${WIDTH / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${escapeHtml(title)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const v = (yMax * i) / 5;
    const yy = y(v).toFixed(1);
    parts.push(
      `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${yy}" y2="${yy}" stroke="#e5e5e5"/>`,
      `<text x="${PAD.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle" font-size="11">${Number(v.toPrecision(3))}</text>`,
    );
  }
  for (let r = 1; r <= rounds; r++) {
    parts.push(
      `<text x="${x(r).toFixed(1)}" y="${HEIGHT - PAD.bottom + 16}" text-anchor="middle" font-size="11">${r}</text>`,
    );
  }
  parts.push(
    `<text x="${PAD.left + plotW / 2}" y="${HEIGHT - 8}" text-anchor="middle" font-size="12">server round</text>`,
    `<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${PAD.top + plotH}" stroke="#444"/>`,
    `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}" stroke="#444"/>`,
  );
  series.forEach((s, i) => {
    const pts = s.points.filter(([, v]) => Number.isFinite(v));
    if (pts.length > 1) {
      const d = pts.map(([r, v]) => `${x(r).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
      parts.push(`<polyline points="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    }
    for (const [r, v] of pts) {
      parts.push(
        `<circle cx="${x(r).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3.5" fill="${s.color}"><title>${escapeHtml(`${s.label}, round ${r}: ${v.toFixed(4)}`)}</title></circle>`,
      );
    }
    const ly = PAD.top + 6 + i * 16;
    parts.push(
      `<rect x="${WIDTH - PAD.right - 130}" y="${ly - 5}" width="10" height="10" fill="${s.color}"/>`,
      `<text x="${WIDTH - PAD.right - 115}" y="${ly}" dominant-baseline="middle" font-size="11">${escapeHtml(s.label)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n");
}

function metric(metrics: RunMetrics, phase: "train" | "evaluate", key: string): [number, number][] {
  const out: [number, number][] = [];
  for (const r of metrics.rounds) {
    const v = r[phase]?.[key];
    if (typeof v === "number") out.push([r.round, v]);
  }
  return out;
}

/** What the page says besides the numbers. */
export interface ChartContext {
  /** Page title. */
  title: string;
  /** Lines shown under the title (dataset, duration, …). */
  notes: readonly string[];
}

/** The HTML page for `metrics`. */
export function chartHtml(metrics: RunMetrics, context: ChartContext): string {
  const rounds = metrics.rounds.length;
  const loss = lineChartSvg(
    "Loss",
    [
      { label: "train_loss", color: "#1f77b4", points: metric(metrics, "train", "train_loss") },
      { label: "eval_loss", color: "#ff7f0e", points: metric(metrics, "evaluate", "eval_loss") },
    ],
    rounds,
  );
  const accuracy = lineChartSvg(
    "Accuracy",
    [{ label: "eval_acc", color: "#2ca02c", points: metric(metrics, "evaluate", "eval_acc") }],
    rounds,
    1,
  );
  const cell = (v: MetricJson | undefined) =>
    typeof v === "number"
      ? v.toFixed(4)
      : v === undefined
        ? "–"
        : v === null
          ? "NaN"
          : escapeHtml(JSON.stringify(v));
  const rows = metrics.rounds
    .map(
      (r) =>
        `<tr><td>${r.round}</td><td>${cell(r.train?.["train_loss"])}</td><td>${cell(r.evaluate?.["eval_loss"])}</td><td>${cell(r.evaluate?.["eval_acc"])}</td></tr>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(context.title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
table { border-collapse: collapse; margin-top: 16px; }
td, th { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
p.note { margin: 2px 0; color: #555; }
</style>
</head>
<body>
<h1>${escapeHtml(context.title)}</h1>
${context.notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`).join("\n")}
<div class="charts">
${loss}
${accuracy}
</div>
<table>
<tr><th>round</th><th>train_loss</th><th>eval_loss</th><th>eval_acc</th></tr>
${rows}
</table>
</body>
</html>
`;
}
