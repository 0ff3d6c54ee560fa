import { describe, expect, test } from "vitest";
import { ConfigArgsError, parseConfigArgs } from "./parse-config-args.js";

describe("parseConfigArgs (--node-config)", () => {
  test("the seed's node config", () => {
    expect(parseConfigArgs(['dataset-path="datasets/cifar10_part_1"'])).toEqual({
      "dataset-path": "datasets/cifar10_part_1",
    });
  });

  test("TOML value types: integers are bigint, floats number", () => {
    const c = parseConfigArgs([
      `key1="value 1" partition-id=0 num-partitions=100 lr=0.05 flag=true s='single quoted' big=9007199254740993`,
    ]);
    expect(c).toEqual({
      key1: "value 1",
      "partition-id": 0n,
      "num-partitions": 100n,
      lr: 0.05,
      flag: true,
      s: "single quoted",
      big: 9007199254740993n,
    });
  });

  test("dotted keys and inline tables flatten; later strings override earlier ones", () => {
    expect(parseConfigArgs(["a.b=1 t={x=2,y='z'}", "a.b=3", ""])).toEqual({
      "a.b": 3n,
      "t.x": 2n,
      "t.y": "z",
    });
  });

  test("nothing given gives an empty config", () => {
    expect(parseConfigArgs([])).toEqual({});
    expect(parseConfigArgs(["  "])).toEqual({});
  });

  test.each([
    ["dataset-path"], // no '='
    ["key=value"], // bare word is not a TOML value
    ['a=1 oops b="x"'], // stray word
    ['a="unterminated'],
    ["a=[1,2]"], // arrays are not config scalars
    ["a=1979-05-27"], // dates either
    ["a=1 a=2"], // duplicate key
    ["__proto__=1"],
  ])("rejects %s with a one-line ConfigArgsError", (arg) => {
    let caught: unknown;
    try {
      parseConfigArgs([arg]);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigArgsError);
    expect((caught as Error).message).not.toContain("\n");
  });
});
