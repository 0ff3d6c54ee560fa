/**
 * An app installed from a FAB, as an app process sees it: its directory, its validated
 * `package.json` `flwr` section, and the run config it runs with (the app's defaults fused with
 * the run's overrides, Flower's `get_fused_config_from_dir`).
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { type AppConfig, parseAppConfig, type UserConfig } from "@flwr-ts/core";
import { AppLoadError } from "./app-loader.js";

/** `$FLWR_HOME`, default `~/.flwr`. */
export function flwrHome(): string {
  const env = process.env["FLWR_HOME"];
  return env && env.length > 0 ? env : join(homedir(), ".flwr");
}

/** Where FABs are installed: `$FLWR_HOME/apps`. */
export function appsRoot(): string {
  return join(flwrHome(), "apps");
}

/**
 * Reads the app config of an installed app.
 * @throws AppLoadError when the FAB is not a flwr-ts app (no `package.json` with a `flwr` section).
 */
export function readInstalledAppConfig(appDir: string): AppConfig {
  const file = join(appDir, "package.json");
  if (!existsSync(file)) {
    const python = existsSync(join(appDir, "pyproject.toml"));
    throw new AppLoadError(
      python
        ? "This FAB is a Python Flower app (it has no package.json): run it with Python SuperExecs " +
            "(start the SuperLink/SuperNode with --isolation process and a Python flower-superexec)."
        : `The installed app in ${appDir} has no package.json.`,
    );
  }
  try {
    return parseAppConfig(JSON.parse(readFileSync(file, "utf8")), file);
  } catch (error) {
    throw new AppLoadError(
      `The app's package.json is invalid: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

/** The app's config defaults with `overrides` applied (unknown override keys are ignored). */
export function fuseRunConfig(app: AppConfig, overrides: UserConfig): UserConfig {
  const fused: UserConfig = Object.assign(Object.create(null), app.config);
  for (const [key, value] of Object.entries(overrides)) if (key in app.config) fused[key] = value;
  return fused;
}
