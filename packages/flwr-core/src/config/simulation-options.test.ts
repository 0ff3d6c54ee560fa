import { describe, expect, it } from "vitest";
import { parseConfigArgs } from "./parse-config-args.js";
import { simulationConfigFromOverrides } from "./simulation-options.js";

describe("simulationConfigFromOverrides (flwr run --federation-config)", () => {
  it("maps Flower's field names (dashes or underscores) and TOML values", () => {
    const config = simulationConfigFromOverrides(
      parseConfigArgs([
        "num-supernodes=100 client-resources-num-cpus=1",
        'client_resources_num_gpus=0.5 backend="ray" verbose=true init-args-num-cpus=2',
      ]),
    );
    expect(config).toEqual({
      numSupernodes: 100,
      clientResourcesNumCpus: 1,
      clientResourcesNumGpus: 0.5,
      backend: "ray",
      verbose: true,
      initArgsNumCpus: 2,
    });
  });

  it("refuses unknown fields with Flower's message and the known names", () => {
    expect(() => simulationConfigFromOverrides(parseConfigArgs(["num-nodes=3 zzz=1"]))).toThrow(
      /^Unknown simulation config field\(s\): num_nodes, zzz \(known: num-supernodes, /,
    );
  });

  it.each([
    ["num-supernodes=0", /"num-supernodes" must be an integer ≥ 1, got 0/],
    ["num-supernodes=2.5", /"num-supernodes" must be an integer ≥ 1, got 2.5/],
    ['num-supernodes="ten"', /"num-supernodes" must be an integer ≥ 1, got ten/],
    ["client-resources-num-gpus=-1", /must be a number ≥ 0, got -1/],
    ["verbose=1", /"verbose" must be true or false, got 1/],
    ["backend=1", /"backend" must be a non-empty string in quotes, got 1/],
  ])("%s is refused with what to write", (arg, message) => {
    expect(() => simulationConfigFromOverrides(parseConfigArgs([arg]))).toThrow(message);
  });
});
