import { describe, expect, it } from "vitest";
import {
  DEFAULT_SIMULATION_CONFIG,
  mergeSimulationConfig,
  simulationSettings,
} from "./simulation-settings.js";

describe("simulationSettings", () => {
  it("defaults the pool to the cores and divides them by client-resources.num-cpus", () => {
    expect(simulationSettings({ numSupernodes: 100 }, 8).workers).toBe(8);
    expect(simulationSettings({ numSupernodes: 100, clientResourcesNumCpus: 2 }, 8).workers).toBe(
      4,
    );
    expect(simulationSettings({ numSupernodes: 100, clientResourcesNumCpus: 16 }, 8).workers).toBe(
      1,
    );
    expect(
      simulationSettings({ numSupernodes: 100, clientResourcesNumCpus: 1, initArgsNumCpus: 3 }, 8)
        .workers,
    ).toBe(3);
    // Never more threads than virtual SuperNodes.
    expect(simulationSettings({ numSupernodes: 2 }, 8).workers).toBe(2);
  });

  it("rejects a missing node count and non-positive CPU counts, warns about GPUs", () => {
    expect(() => simulationSettings({}, 2)).toThrow(/num-supernodes/);
    expect(() => simulationSettings({ numSupernodes: 0 }, 2)).toThrow(/num-supernodes/);
    expect(() => simulationSettings({ numSupernodes: 5, clientResourcesNumCpus: 0 }, 2)).toThrow(
      /client-resources\.num-cpus/,
    );
    expect(
      simulationSettings({ numSupernodes: 5, clientResourcesNumGpus: 0.5 }, 2).warnings[0],
    ).toMatch(/num-gpus/);
  });

  it("merges a run's overrides over Flower's defaults", () => {
    const merged = mergeSimulationConfig(DEFAULT_SIMULATION_CONFIG, {
      numSupernodes: 1000,
      verbose: undefined,
    });
    expect(merged.numSupernodes).toBe(1000);
    expect(merged.verbose).toBe(false);
    expect(merged.backend).toBe("ray");
  });
});
