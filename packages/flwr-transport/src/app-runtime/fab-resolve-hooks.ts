/**
 * Module resolve hooks (run in Node's loader thread, registered by `app-loader.ts`) that make an
 * installed FAB's imports of the runtime's own packages — `@flwr-ts/*` and `@tensorflow/*` —
 * resolve to the installation running the app (the SuperNode's or SuperLink's), not to whatever
 * the FAB directory might contain. The app therefore shares one `@flwr-ts/core` (one `Message`
 * class, one `ClientApp` class) with the runtime, and needs no `node_modules` of its own.
 *
 * Rule: a bare specifier `@flwr-ts/<pkg>[/<sub>]` or `@tensorflow/<pkg>[/<sub>]` imported from a
 * file under `appDirUrl` is resolved as if imported from each of `runtimeParents` in turn; the
 * first success wins; if none succeeds the normal resolution (from the FAB) is tried.
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
  if (fromApp && RUNTIME_SCOPES.some((scope) => specifier.startsWith(scope))) {
    for (const parentURL of data.runtimeParents) {
      try {
        return await nextResolve(specifier, { ...context, parentURL });
      } catch {
        // try the next parent
      }
    }
  }
  return nextResolve(specifier, context);
}
