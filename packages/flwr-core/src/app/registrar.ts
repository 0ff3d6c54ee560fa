/**
 * One function that works both as a TC39 (standard, TypeScript 5) method decorator and as a
 * plain higher-order function — the mechanism behind `@app.train()` and `app.train()(fn)`.
 */
import { AppError } from "./errors.js";

/** Any function: the bound of a {@link Registrar}'s handler type. */
// biome-ignore lint/suspicious/noExplicitAny: handler signatures are checked by the callers' types
export type AnyFn = (...args: any[]) => any;

/**
 * Registers a handler; usable in two ways:
 *
 * - **Function form:** `app.train()(async (msg, context) => reply)` registers the function and
 *   returns it unchanged.
 * - **Decorator form** (standard decorators, *not* `experimentalDecorators`):
 *   ```ts
 *   class Handlers {
 *     @app.train()
 *     static async train(msg: Message, context: Context) { … }
 *   }
 *   ```
 *   The method is registered as soon as the class is defined and returned unchanged.
 *   A **static** method is called with `this` bound to its class. An **instance** method is
 *   registered the same way but called without an instance (`this` is `undefined`), because
 *   the app must not depend on whether or how often the class is instantiated; prefer static
 *   methods, or do not use `this`.
 */
export type Registrar<F extends AnyFn> = <T extends F>(
  fn: T,
  // biome-ignore lint/suspicious/noExplicitAny: any class may hold the decorated method
  context?: ClassMethodDecoratorContext<any, T>,
) => T;

/**
 * Builds a {@link Registrar}.
 * @param what - description for error messages, e.g. `"train function"`.
 * @param register - receives the handler (already bound for static methods) once.
 */
export function makeRegistrar<F extends AnyFn>(
  what: string,
  register: (fn: F, name: string | undefined) => void,
): Registrar<F> {
  return <T extends F>(fn: T, context?: ClassMethodDecoratorContext<unknown, T>): T => {
    if (context === undefined) {
      if (typeof fn !== "function") {
        throw new AppError(`cannot register ${what}: expected a function, got ${typeof fn}`);
      }
      register(fn, fn.name || undefined);
      return fn;
    }
    if (typeof context !== "object" || context === null || context.kind !== "method") {
      const kind = (context as { kind?: unknown } | null)?.kind;
      throw new AppError(
        `cannot register ${what}: the decorator applies to class methods only (got a ${String(kind)}); ` +
          "use standard decorators (no experimentalDecorators) or the function form app.<kind>()(fn)",
      );
    }
    if (typeof fn !== "function") {
      throw new AppError(`cannot register ${what}: expected a function, got ${typeof fn}`);
    }
    let self: unknown;
    if (context.static) {
      context.addInitializer(function (this: unknown) {
        self = this;
      });
    }
    const bound = ((...args: unknown[]) => fn.apply(self, args)) as unknown as F;
    register(bound, typeof context.name === "string" ? context.name : undefined);
    return fn;
  };
}
