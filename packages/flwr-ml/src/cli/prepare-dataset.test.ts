import { describe, expect, test } from "vitest";
import { runPrepareDataset } from "./prepare-dataset.js";

async function run(argv: string[], color?: boolean) {
  let out = "";
  let err = "";
  const code = await runPrepareDataset(argv, {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    ...(color === undefined ? {} : { color }),
  });
  return { code, out, err };
}

describe("flwr-ts-prepare-dataset's command line (commander, the shared help style)", () => {
  test("--help: usage line, description, Options panel with metavars and defaults", async () => {
    const r = await run(["--help"], false);
    expect(r.code).toBe(0);
    expect(r.out.split("\n")[1]).toBe(" Usage: flwr-ts-prepare-dataset [OPTIONS]");
    expect(r.out).toMatch(/│ --num-partitions +N +Number of partitions\. \[default: 2\] +│/);
    expect(r.out).not.toContain("\u001b[");
    expect((await run(["--help"], true)).out).toContain("\u001b[1;36m--out");
  });

  test("an unknown flag: one line with the suggestion and the --help pointer, exit 2", async () => {
    const r = await run(["--synthetc"]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      "error: Unknown option '--synthetc'; did you mean '--synthetic'? See 'flwr-ts-prepare-dataset --help'.\n",
    );
  });

  test("validation errors stay one line too", async () => {
    const r = await run(["--num-partitions", "two"]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      "error: --num-partitions must be an integer, got \"two\". See 'flwr-ts-prepare-dataset --help'.\n",
    );
  });
});
