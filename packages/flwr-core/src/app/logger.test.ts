import { describe, expect, test } from "vitest";
import { formatJsonLogLine, formatLogEntry, formatLogLine } from "./logger.js";

describe("log line formats", () => {
  test("text: Flower's console handler (level, ' : ', padding to 8, ' ', message)", () => {
    // flwr/common/logger.py ConsoleHandler.format: "%(levelname)s : {' ' * (8 - len)} %(message)s".
    expect(formatLogLine("INFO", "Starting Flower SuperLink")).toBe(
      "INFO :      Starting Flower SuperLink",
    );
    expect(formatLogLine("WARNING", "x")).toBe("WARNING :   x");
    expect(formatLogLine("DEBUG", "x")).toBe("DEBUG :     x");
  });

  test("json: one parseable object per line with time, level, component and message", () => {
    const line = formatJsonLogLine(
      "WARNING",
      '\tquote " and\nnewline  ',
      "superlink",
      new Date(Date.UTC(2026, 11, 7, 20, 30, 1, 250)),
    );
    expect(line).toBeDefined();
    expect(line).not.toContain("\n");
    expect(JSON.parse(line!)).toEqual({
      time: "2026-12-07T20:30:01.250Z",
      level: "WARNING",
      component: "superlink",
      message: 'quote " and\nnewline',
    });
  });

  test("json drops lines that are empty once tabs are removed, as Flower's JSON mode does", () => {
    expect(formatJsonLogLine("INFO", "\t\t ", "supernode")).toBeUndefined();
    expect(formatLogEntry("json", "INFO", "\t", "supernode")).toBeUndefined();
    expect(formatLogEntry("text", "INFO", "m", "supernode")).toBe(formatLogLine("INFO", "m"));
  });
});
