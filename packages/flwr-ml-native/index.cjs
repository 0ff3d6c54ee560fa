/**
 * Loader of flwr-ml's optional native training step (build/flwr_ml_native.node,
 * compiled from src/net_step.c at install by scripts/build.mjs). CommonJS so
 * that @flwr-ts/ml can `require` it synchronously inside a try/catch: when
 * the addon was not built (no C compiler, no Node headers) or
 * FLWR_ML_NATIVE=0 is set, `load()` returns null and `loadError()` says why.
 */
"use strict";
const { readFileSync } = require("node:fs");
const { cpus } = require("node:os");
const { join } = require("node:path");

const ADDON = join(__dirname, "build", "flwr_ml_native.node");
let cached;
let error;

/** The addon's functions, or null when it is disabled or could not be loaded. */
function load() {
  if (process.env.FLWR_ML_NATIVE === "0") {
    error = "disabled by FLWR_ML_NATIVE=0";
    return null;
  }
  if (cached !== undefined) return cached;
  try {
    // A -march=native build runs only on the CPU model it was built on (elsewhere it could
    // die of SIGILL): refuse it on another one, with the fix in the message.
    const target = JSON.parse(readFileSync(join(__dirname, "build", "target.json"), "utf8"));
    const cpu = cpus()[0]?.model ?? "";
    if (target.arch !== process.arch || (target.march === "native" && target.cpu !== cpu)) {
      throw new Error(
        `built with -march=${target.march} for ${target.cpu} (${target.arch}), this is ${cpu} (${process.arch})`,
      );
    }
    const addon = require(ADDON);
    if (addon.paramCount !== 62006) throw new Error(`unexpected paramCount ${addon.paramCount}`);
    cached = addon;
  } catch (e) {
    error = `${ADDON} not loadable (${e instanceof Error ? e.message.split("\n")[0] : String(e)}); build it with 'pnpm --filter @flwr-ts/ml-native rebuild'`;
    cached = null;
  }
  return cached;
}

/** Why {@link load} returned null (undefined while it has not). */
function loadError() {
  return error;
}

module.exports = { load, loadError, addonPath: ADDON };
