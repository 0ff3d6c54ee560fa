import { describe, expect, test } from "vitest";
import { formatAddress, parseAddress } from "./address.js";

describe("parseAddress", () => {
  test.each([
    ["127.0.0.1:9092", "127.0.0.1:9092"],
    ["0.0.0.0:9092", "0.0.0.0:9092"],
    ["localhost:1", "localhost:1"],
    ["superlink.example.org:443", "superlink.example.org:443"],
    ["[::1]:9092", "[::1]:9092"],
    ["::1:9092", "[::1]:9092"],
  ])("accepts %s", (text, normalized) => {
    const a = parseAddress(text);
    expect(a && formatAddress(a)).toBe(normalized);
  });

  test.each(["", "9092", ":9092", "host:", "host:99999", "ho st:1", "[host]:1", "a:b:c:x"])(
    "rejects %j",
    (text) => {
      expect(parseAddress(text)).toBeUndefined();
    },
  );
});
