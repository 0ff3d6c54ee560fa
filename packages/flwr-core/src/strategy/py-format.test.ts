import { describe, expect, it } from "vitest";
import { pythonFlwrAvailable, runPython } from "../../../../interop/python.js";
import { MetricRecord } from "../records/metric-record.js";
import { pyExp, pyFloatRepr } from "./py-format.js";
import { Result } from "./result.js";

const FLOATS = [
  0.5,
  1,
  1e-7,
  1e20,
  1e16,
  1e15,
  0.1 + 0.2,
  -2.5e-5,
  1.0000001e-4,
  123456.789,
  Infinity,
  3e-310,
];

describe("Python formatting", () => {
  it("formats floats like repr() and %.4e", () => {
    expect(pyFloatRepr(1)).toBe("1.0");
    expect(pyFloatRepr(1e-7)).toBe("1e-07");
    expect(pyFloatRepr(1e16)).toBe("1e+16");
    expect(pyExp(0.5)).toBe("5.0000e-01");
  });

  it.skipIf(!pythonFlwrAvailable)("matches Python's repr, %.4e and Result text", () => {
    const py = runPython(
      `
import json, sys
from flwr.common import MetricRecord
from flwr.serverapp.strategy import Result
vals = json.loads(sys.argv[1])
vals = [float(v) if v is not None else float("inf") for v in vals]
print(json.dumps([repr(v) for v in vals]))
print(json.dumps([f"{v:.4e}" for v in vals]))
r = Result()
for i in range(1, 4):
    r.train_metrics_clientapp[i] = MetricRecord({"train_loss": 0.5 / i, "accuracy": 0.7, "n": 3})
    r.evaluate_metrics_clientapp[i] = MetricRecord({"eval_loss": 0.5 / i, "a_very_long_metric_name_indeed": 1.0, "another_long_name_for_metric": [2.0, 0.25]})
r.evaluate_metrics_serverapp[0] = MetricRecord({"x": 1})
print(json.dumps(str(r)))
`,
      [JSON.stringify(FLOATS.map((v) => (Number.isFinite(v) ? v : null)))],
    ).split("\n");
    expect(FLOATS.map(pyFloatRepr)).toEqual(JSON.parse(py[0]!));
    expect(FLOATS.map((v) => pyExp(v))).toEqual(JSON.parse(py[1]!));
    const r = new Result();
    for (let i = 1; i <= 3; i++) {
      r.trainMetricsClientapp.set(
        i,
        new MetricRecord({ train_loss: 0.5 / i, accuracy: 0.7, n: 3n }),
      );
      r.evaluateMetricsClientapp.set(
        i,
        new MetricRecord({
          eval_loss: 0.5 / i,
          a_very_long_metric_name_indeed: 1.0,
          another_long_name_for_metric: [2.0, 0.25],
        }),
      );
    }
    r.evaluateMetricsServerapp.set(0, new MetricRecord({ x: 1n }));
    expect(r.toString()).toBe(JSON.parse(py[2]!));
  });
});
