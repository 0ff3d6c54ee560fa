/**
 * The demo's per-round chart: loss (train and evaluate) and accuracy (evaluate, on a 0–1 axis)
 * with the numbers in a table, drawn by `@flwr-ts/core`'s metrics page (a self-contained HTML
 * file with inline SVG: no scripts, no external resources).
 */
import { type MetricChart, type MetricSeries, metricsPageHtml } from "@flwr-ts/core";
import type { MetricJson, RunMetrics } from "../authexample/final-model.js";

function metric(metrics: RunMetrics, phase: "train" | "evaluate", key: string): MetricSeries {
  const points: [number, number][] = [];
  for (const r of metrics.rounds) {
    const v = r[phase]?.[key];
    if (typeof v === "number") points.push([r.round, v]);
  }
  return { label: key, points };
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
  const charts: MetricChart[] = [
    {
      title: "Loss",
      series: [
        { ...metric(metrics, "train", "train_loss"), color: "#1f77b4" },
        { ...metric(metrics, "evaluate", "eval_loss"), color: "#ff7f0e" },
      ],
    },
    {
      title: "Accuracy",
      yMax: 1,
      series: [{ ...metric(metrics, "evaluate", "eval_acc"), color: "#2ca02c" }],
    },
  ];
  const value = (v: MetricJson | undefined) =>
    typeof v === "number"
      ? v
      : v === undefined
        ? undefined
        : v === null
          ? "NaN"
          : JSON.stringify(v);
  return metricsPageHtml({
    title: context.title,
    notes: context.notes,
    charts,
    table: {
      columns: ["round", "train_loss", "eval_loss", "eval_acc"],
      rows: metrics.rounds.map((r) => [
        r.round,
        value(r.train?.["train_loss"]),
        value(r.evaluate?.["eval_loss"]),
        value(r.evaluate?.["eval_acc"]),
      ]),
    },
  });
}
