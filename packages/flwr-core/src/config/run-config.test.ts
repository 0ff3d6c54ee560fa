import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAppConfig } from "./app-config.js";
import { ConfigArgsError } from "./parse-config-args.js";
import {
  fuseConfig,
  parseRunConfigArgs,
  resolveRunConfig,
  UnknownConfigKeyError,
} from "./run-config.js";

const app = parseAppConfig({
  name: "demo",
  version: "1.0.0",
  flwr: {
    app: {
      publisher: "me",
      components: { serverapp: "s.ts:app", clientapp: "c.ts:app" },
      config: {
        "num-server-rounds": 3,
        "learning-rate": 0.1,
        "model-name": "cnn",
        opt: { momentum: 0.9 },
      },
    },
  },
});

describe("run config", () => {
  it("applies key=value overrides with TOML types over the defaults", () => {
    const cfg = resolveRunConfig(app, [
      'num-server-rounds=5 model-name="resnet"',
      "opt.momentum=0.5",
    ]);
    expect({ ...cfg }).toEqual({
      "num-server-rounds": 5n,
      "learning-rate": 0.1,
      "model-name": "resnet",
      "opt.momentum": 0.5,
    });
  });

  it("rejects unknown keys with Flower's message and accepts type changes like Flower", () => {
    expect(() => resolveRunConfig(app, ["num-rounds=5"])).toThrow(UnknownConfigKeyError);
    expect(() => resolveRunConfig(app, ["num-rounds=5"])).toThrow(
      "Key 'num-rounds' is not present in the main dictionary",
    );
    expect(resolveRunConfig(app, ["num-server-rounds=2.5"])["num-server-rounds"]).toBe(2.5);
    expect(resolveRunConfig(app, ["learning-rate=1"])["learning-rate"]).toBe(1n);
    expect(fuseConfig({ a: 1n }, { b: 2n }, false)).toEqual({ a: 1n });
  });

  it("reads a single .toml file and flattens its tables", () => {
    const dir = mkdtempSync(join(tmpdir(), "flwr-runcfg-"));
    writeFileSync(join(dir, "over.toml"), "num-server-rounds = 7\n[opt]\nmomentum = 1.0\n");
    const cfg = resolveRunConfig(app, ["over.toml"], { cwd: dir });
    expect(cfg["num-server-rounds"]).toBe(7n);
    expect(cfg["opt.momentum"]).toBe(1);
    expect(() => parseRunConfigArgs(["over.toml", "a=1"], { cwd: dir })).toThrow(
      "TOML files cannot be passed alongside key-value pairs.",
    );
    expect(() => parseRunConfigArgs(["missing.toml"], { cwd: dir })).toThrow(
      /cannot read run config file/,
    );
    writeFileSync(join(dir, "bad.toml"), "x = = 1");
    expect(() => parseRunConfigArgs(["bad.toml"], { cwd: dir })).toThrow(/not valid TOML/);
  });

  it("rejects malformed override strings", () => {
    expect(() => parseRunConfigArgs(["lr=0.1 oops"])).toThrow(ConfigArgsError);
    expect(() => parseRunConfigArgs(["x=[1,2]"])).toThrow(ConfigArgsError);
  });
});
