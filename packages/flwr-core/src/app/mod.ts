/**
 * ClientApp mods (Flower's `flwr.clientapp.typing.Mod` and `make_ffn`): a mod wraps a ClientApp
 * handler — it sees the incoming message and the context, may answer by itself, and calls
 * `callNext` to run the rest of the chain (later mods, then the handler) and may change what it
 * returns. `new ClientApp({ mods })` applies mods to every handler; `app.train("action", { mods })`
 * (and `evaluate`, `query`) adds mods for one handler, after the app's. The first mod in a list is
 * the outermost, as in Flower.
 */
import type { Context } from "../message/context.js";
import type { Message } from "../message/message.js";

/** A handler as mods see it: a message and its context in, the reply out. */
export type ClientAppCallable = (message: Message, context: Context) => Promise<Message>;

/**
 * A mod: runs around the handler. Call `callNext(message, context)` (with the same or another
 * message) to run the rest of the chain, or return a reply without it (e.g. an error reply when
 * a precondition fails).
 */
export type Mod = (
  message: Message,
  context: Context,
  callNext: ClientAppCallable,
) => Message | Promise<Message>;

/** Wraps `handler` in `mods`, the first outermost (Flower's `make_ffn`). */
export function wrapWithMods(handler: ClientAppCallable, mods: readonly Mod[]): ClientAppCallable {
  let fn = handler;
  for (const mod of [...mods].reverse()) {
    const next = fn;
    fn = async (message, context) => mod(message, context, next);
  }
  return fn;
}
