/**
 * Module resolve hooks (run in Node's loader thread, registered by `app-loader.ts`) that make an
 * installed FAB's imports of the runtime's own packages — `@flwr-ts/*` and `@tensorflow/*` —
 * resolve to the installation running the app (the SuperNode's or SuperLink's), not to whatever
 * the FAB directory might contain. The app therefore shares one `@flwr-ts/core` (one `Message`
 * class, one `ClientApp` class) with the runtime, and needs no `node_modules` of its own.
 *
 * Rules, for a bare specifier imported from a file under `appDirUrl`:
 * - `@flwr-ts/<pkg>[/<sub>]` and `@tensorflow/<pkg>[/<sub>]` resolve as if imported from each of
 *   `runtimeParents` in turn; the first success wins; if none succeeds the normal resolution
 *   (from the FAB) is tried;
 * - any other package (`zod`, `lodash/fp`, …) resolves from the FAB first (its own
 *   `node_modules`, if it ships one) and then from `runtimeParents` — the installation running
 *   the app and the working directory — so an app may use what is installed beside its
 *   SuperNode, as a Python app uses the SuperNode's environment. If neither finds it, the FAB's
 *   own resolution error is raised ("Cannot find package 'x' imported from …").
 * Relative, absolute, `node:` and URL specifiers are never redirected.
 */

/** Data passed from `module.register`. */
export interface FabResolveData {
  /** `file://` URL prefix of the installed apps directory. */
  readonly appDirUrl: string;
  /** Parent URLs to resolve runtime packages from, in order. */
  readonly runtimeParents: readonly string[];
}

type ResolveContext = { parentURL?: string | undefined; conditions?: string[] };
type ResolveResult = { url: string; format?: string | null; shortCircuit?: boolean };
type NextResolve = (specifier: string, context?: ResolveContext) => Promise<ResolveResult>;

const RUNTIME_SCOPES = ["@flwr-ts/", "@tensorflow/"];
let data: FabResolveData = { appDirUrl: "\u0000", runtimeParents: [] };

/** Receives {@link FabResolveData}. */
export function initialize(input: FabResolveData): void {
  data = input;
}

/** Redirects runtime packages imported from the FAB. */
export async function resolve(
  specifier: string,
  context: ResolveContext,
  nextResolve: NextResolve,
): Promise<ResolveResult> {
  const fromApp = context.parentURL?.startsWith(data.appDirUrl) ?? false;
  if (!fromApp || !isBare(specifier)) return nextResolve(specifier, context);
  if (RUNTIME_SCOPES.some((scope) => specifier.startsWith(scope))) {
    const found = await fromRuntime(specifier, context, nextResolve);
    return found ?? nextResolve(specifier, context);
  }
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const found = await fromRuntime(specifier, context, nextResolve);
    if (found) return found;
    throw error;
  }
}

/** A package specifier (`zod`, `@scope/pkg/sub`), not a path, URL or built-in. */
function isBare(specifier: string): boolean {
  return !/^(\.{0,2}\/|[A-Za-z][A-Za-z0-9+.-]*:)/.test(specifier) && !specifier.startsWith("#");
}

/** Resolves `specifier` from each runtime parent in turn; undefined when none finds it. */
async function fromRuntime(
  specifier: string,
  context: ResolveContext,
  nextResolve: NextResolve,
): Promise<ResolveResult | undefined> {
  for (const parentURL of data.runtimeParents) {
    try {
      return await nextResolve(specifier, { ...context, parentURL });
    } catch {
      // try the next parent
    }
  }
  return undefined;
}
