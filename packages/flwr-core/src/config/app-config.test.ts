import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AppConfigError, loadAppConfig, parseAppConfig, parseComponentRef } from "./app-config.js";

// biome-ignore lint/suspicious/noExplicitAny: tests poke at arbitrary JSON
type Loose = Record<string, any>;

const base = () => ({
  name: "@flwrlabs/authexample",
  version: "1.0.0",
  description: "Flower Federations with Authentication",
  license: "Apache-2.0",
  flwr: {
    app: {
      publisher: "flwrlabs",
      components: {
        serverapp: "authexample/server_app.ts:app",
        clientapp: "authexample/client_app.ts:app",
      },
      config: {
        "num-server-rounds": 3,
        "fraction-evaluate": 0.5,
        "local-epochs": 1,
        "learning-rate": 0.1,
        "batch-size": 32,
        "use-gpu": false,
        "model-name": "cnn",
        optimizer: { momentum: 0.9, nesterov: true, warmup: { steps: 10 } },
        "whole-float": { $float: 1 },
        big: { $int: "9007199254740993" },
      },
    },
    federations: { default: "my-federation", "my-federation": { address: "127.0.0.1:9093" } },
  },
});

function expectKeyError(pkg: unknown, key: string, message: RegExp): void {
  try {
    parseAppConfig(pkg);
  } catch (err) {
    expect(err).toBeInstanceOf(AppConfigError);
    expect((err as AppConfigError).key).toBe(key);
    expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error("expected an AppConfigError");
}

describe("parseAppConfig", () => {
  it("reads name, version, publisher, components and typed, flattened config", () => {
    const c = parseAppConfig(base());
    expect(c.name).toBe("authexample");
    expect(c.fabId).toBe("flwrlabs/authexample");
    expect(c.version).toBe("1.0.0");
    expect(c.components.serverapp).toEqual({
      ref: "authexample/server_app.ts:app",
      module: "authexample/server_app.ts",
      exportName: "app",
    });
    expect({ ...c.config }).toEqual({
      "num-server-rounds": 3n,
      "fraction-evaluate": 0.5,
      "local-epochs": 1n,
      "learning-rate": 0.1,
      "batch-size": 32n,
      "use-gpu": false,
      "model-name": "cnn",
      "optimizer.momentum": 0.9,
      "optimizer.nesterov": true,
      "optimizer.warmup.steps": 10n,
      "whole-float": 1,
      big: 9007199254740993n,
    });
    expect(typeof c.config["whole-float"]).toBe("number");
  });

  it("lets flwr.app.name override the package name", () => {
    const pkg = base();
    (pkg.flwr.app as Record<string, unknown>)["name"] = "other-app";
    expect(parseAppConfig(pkg).fabId).toBe("flwrlabs/other-app");
  });

  it("names the bad key in every error", () => {
    const noPublisher = base() as Loose;
    delete noPublisher.flwr.app.publisher;
    expectKeyError(noPublisher, "flwr.app.publisher", /'flwr.app.publisher' is required/);

    const noClient = base() as Loose;
    delete noClient.flwr.app.components.clientapp;
    expectKeyError(
      noClient,
      "flwr.app.components.clientapp",
      /is required, e.g. "src\/client-app.ts:app"/,
    );

    const typo = base() as Loose;
    typo.flwr.app.publsher = "x";
    expectKeyError(typo, "flwr.app.publsher", /unknown key\(s\) 'publsher'/);

    const badRef = base() as Loose;
    badRef.flwr.app.components.serverapp = "server_app.ts";
    expectKeyError(badRef, "flwr.app.components.serverapp", /"<module file>:<export name>"/);

    const outside = base() as Loose;
    outside.flwr.app.components.serverapp = "../x.ts:app";
    expectKeyError(
      outside,
      "flwr.app.components.serverapp",
      /relative path inside the app directory/,
    );

    const list = base() as Loose;
    list.flwr.app.config.layers = [1, 2];
    expectKeyError(list, "flwr.app.config.layers", /is a list; config values must be/);

    const unsafe = base() as Loose;
    unsafe.flwr.app.config.seed = 2 ** 60;
    expectKeyError(unsafe, "flwr.app.config.seed", /\$int/);

    const badName = base() as Loose;
    badName.name = "1app";
    expectKeyError(badName, "name", /Must start with a letter.*flwr.app.name/);

    const noVersion = base() as Loose;
    delete noVersion.version;
    expectKeyError(noVersion, "version", /'version' is required/);

    expectKeyError({ name: "a", version: "1" }, "flwr", /"flwr": \{ "app"/);

    const badPublisher = base() as Loose;
    badPublisher.flwr.app.publisher = "flwr/labs";
    expectKeyError(badPublisher, "flwr.app.publisher", /invalid/);
  });

  it("parses component references", () => {
    expect(parseComponentRef("./src/a.mts:wrapper.app", "k")).toEqual({
      ref: "./src/a.mts:wrapper.app",
      module: "src/a.mts",
      exportName: "wrapper.app",
    });
    expect(() => parseComponentRef("src/a.py:app", "k")).toThrow(/\.ts, \.mts, \.js or \.mjs/);
  });

  it("loads <appDir>/package.json and reports missing or broken files", () => {
    const dir = mkdtempSync(join(tmpdir(), "flwr-appcfg-"));
    expect(() => loadAppConfig(dir)).toThrow(/package.json not found/);
    writeFileSync(join(dir, "package.json"), "{ nope");
    expect(() => loadAppConfig(dir)).toThrow(/not valid JSON/);
    writeFileSync(join(dir, "package.json"), JSON.stringify(base()));
    expect(loadAppConfig(dir).name).toBe("authexample");
  });
});
