/** `ClientApp`: the code a SuperNode runs for each message (Python Flower's `ClientApp`). */
import type { Context } from "../message/context.js";
import { ErrorCode, MessageError } from "../message/error.js";
import { Message } from "../message/message.js";
import { isValidMessageType, MessageType } from "../message/message-type.js";
import { AppError, ClientAppRoutingError, formatExceptionReason } from "./errors.js";
import { consoleLogger, type Logger } from "./logger.js";
import { type ClientAppCallable, type Mod, wrapWithMods } from "./mod.js";
import { makeRegistrar, type Registrar } from "./registrar.js";

/** The action a plain message type (`train`, without `.action`) is routed to. */
export const DEFAULT_ACTION = "default";

/** A ClientApp handler: receives the instruction and the node's context, returns the reply. */
export type ClientAppHandler = (message: Message, context: Context) => Message | Promise<Message>;

/** Options of a {@link ClientApp}. */
export interface ClientAppOptions {
  /** Where {@link ClientApp.handle} logs handler exceptions (default: {@link consoleLogger}). */
  logger?: Logger;
  /** Mods around every handler, the first outermost (`./mod.ts`; Flower's `mods=`). */
  mods?: readonly Mod[];
}

/** Options of one handler's registration (`app.train("action", { mods })`). */
export interface HandlerOptions {
  /** Mods around this handler only, inside the app's mods. */
  mods?: readonly Mod[];
}

const IDENTIFIER = /^[\p{XID_Start}_][\p{XID_Continue}]*$/u;

function describe(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  if (typeof v === "object") return `a ${(v as object).constructor?.name ?? "object"}`;
  return `a ${typeof v}`;
}

/**
 * A Flower ClientApp: routes each message to the handler registered for its type.
 *
 * ```ts
 * const app = new ClientApp();
 *
 * // function form
 * app.train()(async (msg, context) => new Message(content, { replyTo: msg }));
 *
 * // decorator form (standard TC39 decorators)
 * class Handlers {
 *   @app.evaluate()
 *   static async evaluate(msg: Message, context: Context) { … }
 * }
 * ```
 *
 * Routing (as Flower 1.29): message type `train` goes to the `train` handler registered with
 * action `"default"` (`app.train()`), `train.foo` to `app.train("foo")`; likewise `evaluate`,
 * `query`. Nothing can be registered for `system`, so system messages (and any unregistered
 * category/action) fail with `No <category> function registered with name '<action>'`.
 */
/** The reply of `what` to `message`, checked to be a Message that replies to it. */
function checkReply(reply: unknown, message: Message, what: string): Message {
  if (!(reply instanceof Message)) {
    throw new AppError(
      `${what} returned ${describe(reply)}; ` +
        "it must return a Message, e.g. new Message(content, { replyTo: msg })",
    );
  }
  if (reply.metadata.replyToMessageId !== message.metadata.messageId) {
    throw new AppError(
      `${what} returned a Message that does not reply to ` +
        "the received message; build it with new Message(content, { replyTo: msg })",
    );
  }
  return reply;
}

export class ClientApp {
  private readonly handlers = new Map<string, ClientAppHandler>();
  private readonly logger: Logger;

  /** @param options - see {@link ClientAppOptions}. */
  constructor(options: ClientAppOptions = {}) {
    this.logger = options.logger ?? consoleLogger;
    this.mods = [...(options.mods ?? [])];
  }

  private readonly mods: readonly Mod[];
  private readonly handlerMods = new Map<string, readonly Mod[]>();

  /**
   * Registers the handler for `train` messages (`action` "default") or `train.<action>`.
   * Usable as `@app.train()` on a class method or as `app.train()(fn)`.
   * @throws AppError for an invalid action name or a duplicate registration.
   */
  train(
    action: string | HandlerOptions = DEFAULT_ACTION,
    options: HandlerOptions = {},
  ): Registrar<ClientAppHandler> {
    return typeof action === "string"
      ? this.registrar(MessageType.TRAIN, action, options)
      : this.registrar(MessageType.TRAIN, DEFAULT_ACTION, action);
  }

  /**
   * Registers the handler for `evaluate` messages (`action` "default") or `evaluate.<action>`.
   * Usable as `@app.evaluate()` or `app.evaluate()(fn)`.
   */
  evaluate(
    action: string | HandlerOptions = DEFAULT_ACTION,
    options: HandlerOptions = {},
  ): Registrar<ClientAppHandler> {
    return typeof action === "string"
      ? this.registrar(MessageType.EVALUATE, action, options)
      : this.registrar(MessageType.EVALUATE, DEFAULT_ACTION, action);
  }

  /**
   * Registers the handler for `query` messages (`action` "default") or `query.<action>`.
   * Usable as `@app.query()` or `app.query()(fn)`.
   */
  query(
    action: string | HandlerOptions = DEFAULT_ACTION,
    options: HandlerOptions = {},
  ): Registrar<ClientAppHandler> {
    return typeof action === "string"
      ? this.registrar(MessageType.QUERY, action, options)
      : this.registrar(MessageType.QUERY, DEFAULT_ACTION, action);
  }

  /** The registered routes, e.g. `["train.default", "evaluate.default"]`. */
  routes(): string[] {
    return [...this.handlers.keys()];
  }

  private registrar(
    category: string,
    action: string,
    options: HandlerOptions,
  ): Registrar<ClientAppHandler> {
    if (typeof action !== "string" || !IDENTIFIER.test(action)) {
      throw new AppError(
        `Cannot register ${category} function with name '${String(action)}'. ` +
          "The name must be a valid identifier (letters, digits and underscores, not starting with a digit).",
      );
    }
    return makeRegistrar<ClientAppHandler>(`${category} function`, (fn) => {
      const route = `${category}.${action}`;
      if (this.handlers.has(route)) {
        throw new AppError(
          `Cannot register ${category} function with name '${action}'. ` +
            `A ${category} function with the name '${action}' is already registered.`,
        );
      }
      this.handlers.set(route, fn);
      if (options.mods && options.mods.length > 0) this.handlerMods.set(route, [...options.mods]);
    });
  }

  /**
   * Runs the handler for `message` and returns its reply (Python `ClientApp.__call__`).
   * Throws what the handler throws.
   * @throws ClientAppRoutingError for an invalid message type or no matching handler.
   * @throws AppError when the handler returns something other than a {@link Message}, or a
   *   Message that is not a reply to `message`.
   */
  async call(message: Message, context: Context): Promise<Message> {
    const type = message.metadata.messageType;
    if (!isValidMessageType(type)) {
      throw new ClientAppRoutingError(`Invalid message type: ${type}`);
    }
    let category = type;
    let action = DEFAULT_ACTION;
    const dot = type.indexOf(".");
    if (dot >= 0) {
      category = type.slice(0, dot);
      action = type.slice(dot + 1);
    }
    const handler = this.handlers.get(`${category}.${action}`);
    if (handler === undefined) {
      throw new ClientAppRoutingError(`No ${category} function registered with name '${action}'`);
    }
    const what = `the ${category} function for '${action}'`;
    const checked: ClientAppCallable = async (m, ctx) => checkReply(await handler(m, ctx), m, what);
    const mods = [...this.mods, ...(this.handlerMods.get(`${category}.${action}`) ?? [])];
    if (mods.length === 0) return checked(message, context);
    return checkReply(
      await wrapWithMods(checked, mods)(message, context),
      message,
      `a mod of ${what}`,
    );
  }

  /**
   * The runtime's entry point: runs {@link ClientApp.call} and never throws. A thrown error
   * (including routing failures and invalid return values) becomes Flower's error reply with
   * code 2 (`CLIENT_APP_RAISED_EXCEPTION`) and reason `<class 'Name'>:<'message'>`, and is
   * logged as `ClientApp raised an exception`.
   */
  async handle(message: Message, context: Context): Promise<Message> {
    try {
      return await this.call(message, context);
    } catch (err) {
      const detail = err instanceof Error && err.stack ? `\n${err.stack}` : "";
      this.logger.log("ERROR", `ClientApp raised an exception${detail}`);
      return new Message(
        new MessageError(ErrorCode.CLIENT_APP_RAISED_EXCEPTION, formatExceptionReason(err)),
        { replyTo: message },
      );
    }
  }
}
