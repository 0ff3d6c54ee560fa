/**
 * Saving the ServerApp's results — the counterpart of the seed's
 * `torch.save(state_dict, "final_model.pt")`:
 *
 * - `final_model.npz`: a NumPy archive with one `.npy` per parameter, keyed by PyTorch
 *   `state_dict` name (`conv1.weight`, …). In Python:
 *   `net.load_state_dict({k: torch.from_numpy(v) for k, v in np.load("final_model.npz").items()})`.
 * - `metrics.json`: the per-round aggregated metrics (train and evaluate) of the run.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type ArrayRecord, type MetricRecord, type Result, writeZip } from "@flwr-ts/core";

/** A metric in JSON: a number, `null` for NaN or ±Infinity (a diverged loss), or a list. */
export type MetricJson = number | null | (number | null)[];

/** One round in `metrics.json`. */
export interface RoundMetrics {
  /** 1-based server round. */
  round: number;
  /** Aggregated ClientApp train metrics (e.g. `train_loss`), if any. */
  train?: Record<string, MetricJson>;
  /** Aggregated ClientApp evaluate metrics (e.g. `eval_loss`, `eval_acc`), if any. */
  evaluate?: Record<string, MetricJson>;
}

/** Contents of `metrics.json`. */
export interface RunMetrics {
  /** The run id, as a decimal string. */
  runId: string;
  /** Rounds in order. */
  rounds: RoundMetrics[];
}

function finite(x: bigint | number): number | null {
  const n = Number(x);
  return Number.isFinite(n) ? n : null;
}

function plain(record: MetricRecord | undefined): Record<string, MetricJson> | undefined {
  if (record === undefined) return undefined;
  const out: Record<string, MetricJson> = {};
  for (const [k, v] of record) {
    out[k] = Array.isArray(v) ? v.map(finite) : finite(v as bigint | number);
  }
  return out;
}

/** The per-round metrics of a strategy result. */
export function runMetrics(runId: bigint, result: Result, numRounds: number): RunMetrics {
  const rounds: RoundMetrics[] = [];
  for (let round = 1; round <= numRounds; round++) {
    const train = plain(result.trainMetricsClientapp.get(round));
    const evaluate = plain(result.evaluateMetricsClientapp.get(round));
    rounds.push({
      round,
      ...(train === undefined ? {} : { train }),
      ...(evaluate === undefined ? {} : { evaluate }),
    });
  }
  return { runId: runId.toString(), rounds };
}

/** A NumPy `.npz` archive of `arrays` (each entry is the array's `.npy` bytes). */
export function npzOf(arrays: ArrayRecord): Uint8Array {
  return writeZip([...arrays].map(([name, array]) => ({ name: `${name}.npy`, data: array.data })));
}

function writeAtomically(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/**
 * Writes `final_model.npz` and `metrics.json` under `dir` (created if needed).
 * @returns the absolute paths written.
 */
export function saveFinalModel(
  dir: string,
  arrays: ArrayRecord,
  metrics: RunMetrics,
): { model: string; metrics: string } {
  const out = resolve(dir);
  mkdirSync(out, { recursive: true });
  const model = join(out, "final_model.npz");
  const metricsFile = join(out, "metrics.json");
  writeAtomically(model, npzOf(arrays));
  writeAtomically(metricsFile, `${JSON.stringify(metrics, null, 2)}\n`);
  return { model, metrics: metricsFile };
}
