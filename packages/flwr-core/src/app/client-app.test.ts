import { describe, expect, it } from "vitest";
import { importDecorated } from "../../test/support/import-decorated.js";
import { Context } from "../message/context.js";
import { ErrorCode } from "../message/error.js";
import { Message } from "../message/message.js";
import { ConfigRecord } from "../records/config-record.js";
import { MetricRecord } from "../records/metric-record.js";
import { RecordDict } from "../records/record-dict.js";
import { ClientApp } from "./client-app.js";
import { AppError, ClientAppRoutingError, formatExceptionReason } from "./errors.js";
import { MemoryLogger } from "./logger.js";

const ctx = () => new Context({ runId: 7n, nodeId: 42n });

function instruction(type: string): Message {
  const m = new Message(new RecordDict(), 42n, type);
  m.metadata.messageId = "ab".repeat(32);
  m.metadata.srcNodeId = 1n;
  m.metadata.runId = 7n;
  return m;
}

function tagReply(msg: Message, tag: string): Message {
  return new Message(new RecordDict({ tag: new ConfigRecord({ tag }) }), { replyTo: msg });
}

function tagOf(reply: Message): unknown {
  return reply.content.configRecords.get("tag")?.get("tag");
}

describe("ClientApp registration", () => {
  it("registers with the function form and returns the function unchanged", async () => {
    const app = new ClientApp();
    const fn = async (msg: Message) => tagReply(msg, "train-default");
    expect(app.train()(fn)).toBe(fn);
    app.train("custom")(async (msg) => tagReply(msg, "train-custom"));
    app.evaluate()((msg) => tagReply(msg, "evaluate"));
    app.query("info")((msg) => tagReply(msg, "query-info"));
    expect(app.routes()).toEqual([
      "train.default",
      "train.custom",
      "evaluate.default",
      "query.info",
    ]);
    expect(tagOf(await app.call(instruction("train"), ctx()))).toBe("train-default");
    expect(tagOf(await app.call(instruction("train.custom"), ctx()))).toBe("train-custom");
    expect(tagOf(await app.call(instruction("evaluate"), ctx()))).toBe("evaluate");
    expect(tagOf(await app.call(instruction("query.info"), ctx()))).toBe("query-info");
  });

  it("registers with TC39 decorators on static and instance methods", async () => {
    const app = new ClientApp();
    const { define } = await importDecorated<{
      define: (
        app: ClientApp,
        reply: typeof tagReply,
      ) => {
        train: (m: Message, c: Context) => Promise<Message>;
        new (): { special: (m: Message, c: Context) => Promise<Message> };
      };
    }>(`
      export function define(app, tagReply) {
        class Handlers {
          static prefix = "static";
          @app.train()
          static async train(msg, _context) {
            return tagReply(msg, this.prefix + "-train");
          }
          @app.evaluate("special")
          async special(msg, context) {
            return tagReply(msg, "instance-" + context.nodeId);
          }
        }
        return Handlers;
      }
    `);
    const Handlers = define(app, tagReply);
    expect(typeof Handlers.train).toBe("function");
    expect(app.routes()).toEqual(["train.default", "evaluate.special"]);
    expect(tagOf(await app.call(instruction("train"), ctx()))).toBe("static-train");
    expect(tagOf(await app.call(instruction("evaluate.special"), ctx()))).toBe("instance-42");
    // the decorated class still works normally
    expect(tagOf(await new Handlers().special(instruction("evaluate"), ctx()))).toBe("instance-42");
  });

  it("rejects the decorator on a non-method", async () => {
    const app = new ClientApp();
    const mod = await importDecorated<{ define: (app: ClientApp) => unknown }>(`
      export function define(app) {
        class C { @app.train() field = 1; }
        return C;
      }
    `);
    expect(() => mod.define(app)).toThrow(/applies to class methods only/);
  });

  it("rejects duplicate and invalid action names like Flower", () => {
    const app = new ClientApp();
    app.train()((m) => m);
    expect(() => app.train()((m) => m)).toThrow(
      "Cannot register train function with name 'default'. A train function with the name 'default' is already registered.",
    );
    expect(() => app.query("not-valid")).toThrow(AppError);
    expect(() => app.query("1abc")).toThrow(/Cannot register query function with name '1abc'/);
  });
});

describe("ClientApp routing and error replies", () => {
  it("answers an unknown action with code 2 and Python's ValueError reason", async () => {
    const logger = new MemoryLogger();
    const app = new ClientApp({ logger });
    app.train()((msg) => tagReply(msg, "x"));
    const msg = instruction("train.foo");
    await expect(app.call(msg, ctx())).rejects.toThrow(ClientAppRoutingError);
    const reply = await app.handle(msg, ctx());
    expect(reply.hasError()).toBe(true);
    expect(reply.error.code).toBe(ErrorCode.CLIENT_APP_RAISED_EXCEPTION);
    expect(reply.error.reason).toBe(
      "<class 'ValueError'>:<'No train function registered with name 'foo''>",
    );
    expect(reply.metadata.replyToMessageId).toBe(msg.metadata.messageId);
    expect(reply.metadata.dstNodeId).toBe(1n);
    expect(reply.metadata.srcNodeId).toBe(42n);
    expect(reply.metadata.messageType).toBe("train.foo");
    expect(logger.lines[0]).toMatch(/^ERROR :\s+ClientApp raised an exception/);
  });

  it("routes system and unregistered categories to an error reply", async () => {
    const app = new ClientApp({ logger: new MemoryLogger() });
    app.train()((msg) => tagReply(msg, "x"));
    for (const [type, reason] of [
      ["system", "No system function registered with name 'default'"],
      ["evaluate", "No evaluate function registered with name 'default'"],
      ["query.x", "No query function registered with name 'x'"],
    ] as const) {
      const reply = await app.handle(instruction(type), ctx());
      expect(reply.error.reason).toBe(`<class 'ValueError'>:<'${reason}'>`);
    }
  });

  it("turns a thrown error into code 2 with the JS error name as class", async () => {
    const app = new ClientApp({ logger: new MemoryLogger() });
    app.train()(() => {
      throw new RangeError("division by zero");
    });
    app.evaluate()(async () => {
      throw "plain string";
    });
    const r1 = await app.handle(instruction("train"), ctx());
    expect(r1.error.code).toBe(2n);
    expect(r1.error.reason).toBe("<class 'RangeError'>:<'division by zero'>");
    const r2 = await app.handle(instruction("evaluate"), ctx());
    expect(r2.error.reason).toBe("<class 'string'>:<'plain string'>");
  });

  it("rejects handlers that return a non-Message or a non-reply", async () => {
    const app = new ClientApp({ logger: new MemoryLogger() });
    app.train()((() => ({ not: "a message" })) as never);
    app.evaluate()(() => new Message(new RecordDict(), 5n, "train"));
    const r1 = await app.handle(instruction("train"), ctx());
    expect(r1.error.code).toBe(2n);
    expect(r1.error.reason).toMatch(
      /^<class 'AppError'>:<'the train function for 'default' returned a Object/,
    );
    const r2 = await app.handle(instruction("evaluate"), ctx());
    expect(r2.error.reason).toMatch(/does not reply to the received message/);
  });

  it("passes the context and lets handlers keep state", async () => {
    const app = new ClientApp();
    app.train()((msg, context) => {
      const n = (context.state.metricRecords.get("s")?.get("n") as bigint | undefined) ?? 0n;
      context.state.set("s", new MetricRecord({ n: n + 1n }));
      return tagReply(msg, String(n + 1n));
    });
    const c = ctx();
    await app.call(instruction("train"), c);
    expect(tagOf(await app.call(instruction("train"), c))).toBe("2");
  });

  it("formats reasons like Python", () => {
    class MyError extends Error {
      override name = "MyError";
    }
    expect(formatExceptionReason(new MyError("boom"))).toBe("<class 'MyError'>:<'boom'>");
    expect(formatExceptionReason(null)).toBe("<class 'null'>:<'null'>");
  });
});
