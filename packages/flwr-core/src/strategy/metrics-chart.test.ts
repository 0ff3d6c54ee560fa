import { describe, expect, test } from "vitest";
import { MetricRecord } from "../records/metric-record.js";
import { lineChartSvg, metricsChartHtml, metricsPageHtml, resultCharts } from "./metrics-chart.js";
import { Result } from "./result.js";

function result(): Result {
  const r = new Result();
  for (const round of [1, 2, 3]) {
    r.trainMetricsClientapp.set(
      round,
      new MetricRecord({ loss: 1 / round, "n<b>": BigInt(round) }),
    );
    r.evaluateMetricsClientapp.set(round, new MetricRecord({ loss: 2 / round, acc: round / 4 }));
  }
  r.evaluateMetricsServerapp.set(0, new MetricRecord({ acc: 0 }));
  r.evaluateMetricsServerapp.set(2, new MetricRecord({ acc: Number.NaN }));
  return r;
}

describe("metrics charts", () => {
  test("one chart per metric name, a line per phase that has it, round 0 left out", () => {
    const charts = resultCharts(result());
    expect(charts.map((c) => c.title)).toEqual(["loss", "n<b>", "acc"]);
    expect(charts[0]!.series.map((s) => [s.label, s.points])).toEqual([
      [
        "train loss",
        [
          [1, 1],
          [2, 0.5],
          [3, 1 / 3],
        ],
      ],
      [
        "evaluate loss",
        [
          [1, 2],
          [2, 1],
          [3, 2 / 3],
        ],
      ],
    ]);
    // The server's acc has round 0 (dropped) and a NaN at round 2 (kept as data, not drawn).
    expect(charts[2]!.series.map((s) => s.label)).toEqual(["evaluate acc", "server acc"]);
  });

  test("an SVG line per series through its finite points, escaped labels", () => {
    const svg = lineChartSvg(
      {
        title: "a <b> & 'c'",
        series: [
          {
            label: "x",
            points: [
              [1, 1],
              [2, Number.NaN],
              [3, 3],
            ],
          },
        ],
      },
      3,
    );
    expect(svg).toContain("a &#60;b&#62; &#38; &#39;c&#39;");
    expect(svg.match(/<polyline points="([^"]*)"/)?.[1]?.split(" ")).toHaveLength(2);
    expect(svg.match(/<circle /g)).toHaveLength(2);
    expect(svg).not.toContain("NaN");
  });

  test("the page: every chart and a table of the numbers; no script, nothing external", () => {
    const html = metricsChartHtml(result(), { title: "Run 7", notes: ["2 SuperNodes"] });
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html.match(/<svg /g)).toHaveLength(3);
    expect(html).toContain("<h1>Run 7</h1>");
    expect(html).toContain('<p class="note">2 SuperNodes</p>');
    expect(html).toContain("<th>train n&#60;b&#62;</th>");
    expect(html).toContain("<tr><td>2</td><td>0.5000</td>");
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  test("an explicit table and a fixed y axis", () => {
    const html = metricsPageHtml({
      title: "t",
      charts: [{ title: "acc", yMax: 1, series: [{ label: "acc", points: [[1, 0.2]] }] }],
      table: {
        columns: ["round", "acc"],
        rows: [
          [1, 0.2],
          [2, undefined],
        ],
      },
    });
    expect(html).toContain("<tr><td>2</td><td>–</td></tr>");
    // The top tick is the fixed maximum.
    expect(html).toMatch(/>1<\/text>/);
  });
});
