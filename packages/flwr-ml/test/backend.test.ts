/**
 * Backend selection: the environment override, its validation, and the
 * one-line log. (tfjs-node cannot install here, so `node` is tested only as
 * the failing first choice.)
 */

import { afterAll, describe, expect, it } from "vitest";
import {
  BACKEND_ENV,
  BackendSelectionError,
  initBackend,
  parseBackendChoice,
} from "../src/backend.js";
import * as tf from "../src/tf.js";

const saved = process.env[BACKEND_ENV];
afterAll(() => {
  if (saved === undefined) delete process.env[BACKEND_ENV];
  else process.env[BACKEND_ENV] = saved;
});

describe("backend selection", () => {
  it("parses backend names and rejects others", () => {
    expect(parseBackendChoice(" WASM ", "x")).toBe("wasm");
    expect(() => parseBackendChoice("gpu", BACKEND_ENV)).toThrow(
      /FLWR_TFJS_BACKEND="gpu" is not a backend: use node, wasm or cpu/,
    );
  });

  it("rejects a bad FLWR_TFJS_BACKEND, then honours a good one, logging once", async () => {
    process.env[BACKEND_ENV] = "tpu";
    await expect(initBackend({ log: null })).rejects.toThrow(BackendSelectionError);
    process.env[BACKEND_ENV] = "node";
    await expect(initBackend({ log: null })).rejects.toThrow(/tfjs-node not available/);
    process.env[BACKEND_ENV] = "cpu";
    const lines: string[] = [];
    const info = await initBackend({ log: (l) => lines.push(l) });
    expect(info.choice).toBe("cpu");
    expect(tf.getBackend()).toBe("cpu");
    expect(info.kernels).toEqual(
      expect.arrayContaining([
        "Conv2DBackpropFilter",
        "FlwrSgdMomentumUpdate",
        "FlwrSoftmaxCrossEntropy",
      ]),
    );
    expect(info.reason).toBe("FLWR_TFJS_BACKEND=cpu");
    const again = await initBackend({ log: (l) => lines.push(l) });
    expect(again).toBe(info);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^flwr-ml: TensorFlow.js backend cpu \+ flwr-ml kernels/);
  });
});
