import { describe, expect, test } from "vitest";
import { CliError } from "./cli-error.js";
import type { CliIo } from "./command.js";
import { CommandOutput, parseOutputFormat, toJson } from "./output-format.js";

function capture(): CliIo & { text: () => string } {
  let text = "";
  return { out: (t) => (text += t), err: (t) => (text += t), text: () => text };
}

describe("--format json output", () => {
  test("bigints are written as exact JSON numbers", () => {
    expect(toJson({ "node-id": 18446744073709551615n, s: "x" })).toBe(
      '{\n  "node-id": 18446744073709551615,\n  "s": "x"\n}',
    );
  });

  test("format values", () => {
    expect(parseOutputFormat(undefined)).toBe("default");
    expect(parseOutputFormat("JSON")).toBe("json");
    expect(() => parseOutputFormat("yaml")).toThrow(CliError);
  });

  test("JSON mode hides progress lines and reports failures as a document", async () => {
    const io = capture();
    const out = new CommandOutput(io, "json");
    const status = await out.guard(async () => {
      out.line("Loading project configuration...");
      throw new CliError("Cannot connect to the SuperLink at 127.0.0.1:9093");
    });
    expect(status).toBe(1);
    expect(JSON.parse(io.text())).toEqual({
      success: false,
      "error-message": "Cannot connect to the SuperLink at 127.0.0.1:9093",
    });
  });

  test("default mode prints lines and lets errors through", async () => {
    const io = capture();
    const out = new CommandOutput(io, "default");
    out.line("Success");
    out.document({ ignored: true });
    expect(io.text()).toBe("Success\n");
    await expect(out.guard(async () => Promise.reject(new CliError("x")))).rejects.toThrow("x");
  });
});
