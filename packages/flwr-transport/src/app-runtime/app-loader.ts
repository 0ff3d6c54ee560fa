/**
 * Loading an app component (`<module>:<export>`) from an installed FAB, without a build step:
 * TypeScript modules run through tsx's ESM loader, and the FAB's imports of `@flwr-ts/*` and
 * `@tensorflow/*` resolve to this installation (`fab-resolve-hooks.ts`).
 */
import { existsSync } from "node:fs";
import { register as registerHooks } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { register as registerTsx } from "tsx/esm/api";

/** The component could not be loaded (Flower's `LoadClientAppError` / ServerApp load failure). */
export class AppLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AppLoadError";
  }
}

let registeredFor: string | undefined;

function runtimeParents(): string[] {
  const parents = [import.meta.url];
  for (const pkg of ["@flwr-ts/ml", "@flwr-ts/core"]) {
    try {
      parents.push(import.meta.resolve(pkg));
    } catch {
      // not installed beside the runtime
    }
  }
  parents.push(pathToFileURL(join(process.cwd(), "noop.js")).href);
  return parents;
}

/** Registers tsx and the resolve hooks for apps under `appsRoot` (once per process). */
export function registerAppLoader(appsRoot: string): void {
  if (registeredFor !== undefined) return;
  registeredFor = appsRoot;
  // The FAB is compiled on its own terms: a tsconfig.json in the working directory (its `paths`,
  // custom conditions) must not redirect the app's imports away from this installation.
  registerTsx({ tsconfig: false });
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  let appDirUrl = pathToFileURL(appsRoot).href;
  if (!appDirUrl.endsWith("/")) appDirUrl += "/";
  registerHooks(new URL(`./fab-resolve-hooks${ext}`, import.meta.url), {
    data: { appDirUrl, runtimeParents: runtimeParents() },
  });
}

/**
 * Imports `module` (relative to `appDir`) and returns its export `exportName` (dotted names walk
 * into objects).
 * @param kind - the class the export should be, for the hint of a missing export.
 * @throws AppLoadError naming the module and export.
 */
export async function loadComponent(
  appDir: string,
  module: string,
  exportName: string,
  kind?: "ClientApp" | "ServerApp",
): Promise<unknown> {
  const file = join(appDir, module);
  if (!existsSync(file))
    throw new AppLoadError(`The app module '${module}' does not exist in ${appDir}.`);
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    throw new AppLoadError(`Failed to import '${module}': ${detail}`, { cause: error });
  }
  let value: unknown = namespace;
  for (const part of exportName.split(".")) {
    value =
      value && typeof value === "object" ? (value as Record<string, unknown>)[part] : undefined;
    if (value === undefined)
      throw new AppLoadError(
        `'${module}' has no export '${exportName}'. Export the app, e.g. \`export const ${exportName} = new ${kind ?? "ClientApp"}()\`${kind ? "" : " (or `new ServerApp()`)"}.`,
      );
  }
  return value;
}
