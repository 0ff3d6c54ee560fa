/** `ServerApp`: the code the SuperLink side runs for a run (Python Flower's `ServerApp`). */
import type { Grid } from "../grid/grid.js";
import type { Context } from "../message/context.js";
import { AppError } from "./errors.js";
import { makeRegistrar, type Registrar } from "./registrar.js";

/** A ServerApp main function: drives the run through the grid. */
export type ServerAppMain = (grid: Grid, context: Context) => void | Promise<void>;

/**
 * A Flower ServerApp with one main function.
 *
 * ```ts
 * const app = new ServerApp();
 * app.main()(async (grid, context) => {
 *   const result = await new FedAvg().start({ grid, initialArrays });
 * });
 * // or, on a static class method:  @app.main() static async main(grid, context) { … }
 * ```
 */
export class ServerApp {
  private mainFn: ServerAppMain | undefined;

  /**
   * Registers the main function; usable as `@app.main()` on a class method or as
   * `app.main()(fn)`.
   * @throws AppError when a main function is already registered.
   */
  main(): Registrar<ServerAppMain> {
    return makeRegistrar<ServerAppMain>("main function", (fn) => {
      if (this.mainFn !== undefined) {
        throw new AppError("this ServerApp already has a main function; register only one");
      }
      this.mainFn = fn;
    });
  }

  /** True when a main function is registered. */
  hasMain(): boolean {
    return this.mainFn !== undefined;
  }

  /**
   * Runs the main function (Python `ServerApp.__call__`); rejects with what it throws.
   * @throws AppError when no main function is registered.
   */
  async run(grid: Grid, context: Context): Promise<void> {
    if (this.mainFn === undefined) {
      throw new AppError(
        "this ServerApp has no main function; register one with @app.main() or app.main()(fn)",
      );
    }
    await this.mainFn(grid, context);
  }
}
