/**
 * `flwr new <name> [--publisher NAME] [--directory DIR]`: scaffolds a TypeScript Flower app — a
 * `package.json` with the `flwr` section (components, config, a local federation), a ClientApp, a
 * ServerApp (FedAvg) and a task module training a small linear model on generated data. The app
 * runs as generated: `flwr run <name> local-deployment --stream` against a local SuperLink.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { appNameProblem } from "@flwr-ts/core";
import type { CliSpec } from "@flwr-ts/core/cli";
import { CliError, UsageError } from "../cli-error.js";
import { type CliCommand, parseCommandArgs } from "../command.js";
import { packageVersion } from "../version.js";

const SPEC: CliSpec = {
  name: "flwr new",
  description: "Create a new flwr-ts app in DIR/NAME.",
  arguments: [
    { name: "name", required: true, help: "Name of the app (a valid npm package name)." },
  ],
  options: [
    { name: "publisher", metavar: "NAME", help: "Publisher of the app.", default: "flwrlabs" },
    { name: "directory", metavar: "DIR", help: "Parent directory of the app.", default: "." },
  ],
};

/** The generated `task.ts`. */
export const TASK_TS =
  '/** A linear model y = w\u00b7x + b on generated data (y = 2\u00b7x1 \u2212 3\u00b7x2 + 0.5 + noise), trained with gradient descent. */\nimport { ArrayRecord, NdArray } from "@flwr-ts/core";\n\n/** Generated examples. */\nexport interface Dataset {\n  readonly x: Float64Array;\n  readonly y: Float64Array;\n  readonly n: number;\n}\n\n/** Deterministic uniform [-1, 1) numbers. */\nfunction rng(seed: number): () => number {\n  let s = (seed * 2654435761 + 12345) >>> 0;\n  return () => {\n    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;\n    return (s / 2 ** 32) * 2 - 1;\n  };\n}\n\n/** `n` examples from `seed`. */\nexport function makeData(seed: number, n: number): Dataset {\n  const r = rng(seed);\n  const x = new Float64Array(n * 2);\n  const y = new Float64Array(n);\n  for (let i = 0; i < n; i++) {\n    x[2 * i] = r();\n    x[2 * i + 1] = r();\n    y[i] = 2 * x[2 * i]! - 3 * x[2 * i + 1]! + 0.5 + 0.01 * r();\n  }\n  return { x, y, n };\n}\n\n/** Mean squared error of (w, b). */\nexport function mse(w: ArrayLike<number>, b: number, d: Dataset): number {\n  let s = 0;\n  for (let i = 0; i < d.n; i++) {\n    const e = w[0]! * d.x[2 * i]! + w[1]! * d.x[2 * i + 1]! + b - d.y[i]!;\n    s += e * e;\n  }\n  return s / d.n;\n}\n\n/** `epochs` full-batch gradient steps; returns the new (w, b). */\nexport function train(w0: ArrayLike<number>, b0: number, d: Dataset, lr: number, epochs: number) {\n  const w = [w0[0]!, w0[1]!];\n  let b = b0;\n  for (let e = 0; e < epochs; e++) {\n    let g0 = 0;\n    let g1 = 0;\n    let gb = 0;\n    for (let i = 0; i < d.n; i++) {\n      const err = w[0]! * d.x[2 * i]! + w[1]! * d.x[2 * i + 1]! + b - d.y[i]!;\n      g0 += err * d.x[2 * i]!;\n      g1 += err * d.x[2 * i + 1]!;\n      gb += err;\n    }\n    w[0] = w[0]! - (lr * 2 * g0) / d.n;\n    w[1] = w[1]! - (lr * 2 * g1) / d.n;\n    b -= (lr * 2 * gb) / d.n;\n  }\n  return { w, b };\n}\n\n/** The model as an ArrayRecord. */\nexport function toArrays(w: ArrayLike<number>, b: number): ArrayRecord {\n  return new ArrayRecord({\n    w: NdArray.fromTypedArray(new Float32Array([w[0]!, w[1]!])),\n    b: NdArray.fromTypedArray(new Float32Array([b])),\n  });\n}\n';

/** The generated `client_app.ts`. */
export const CLIENT_APP_TS =
  '/** The ClientApp: trains and evaluates the linear model on this node\'s generated data. */\nimport { ClientApp, type Context, Message, MetricRecord, RecordDict } from "@flwr-ts/core";\nimport { makeData, mse, toArrays, train } from "./task.js";\n\nexport const app = new ClientApp();\n\nfunction data(context: Context) {\n  // Each node gets its own data, seeded by its node id.\n  return makeData(Number(context.nodeId % 1000n), 50);\n}\n\napp.train()(async (msg: Message, context: Context) => {\n  const arrays = msg.content.arrayRecords.get("arrays")!;\n  const config = msg.content.configRecords.get("config")!;\n  const lr = Number(context.runConfig["learning-rate"] ?? 0.3);\n  const epochs = Number(context.runConfig["local-epochs"] ?? 5n);\n  const d = data(context);\n  const { w, b } = train(\n    arrays.get("w")!.toTypedArray("float32"),\n    arrays.get("b")!.toTypedArray("float32")[0]!,\n    d,\n    lr,\n    epochs,\n  );\n  const content = new RecordDict({\n    arrays: toArrays(w, b),\n    metrics: new MetricRecord({\n      "num-examples": BigInt(d.n),\n      train_loss: mse(w, b, d),\n      round: config.get("server-round") as bigint,\n    }),\n  });\n  return new Message(content, { replyTo: msg });\n});\n\napp.evaluate()(async (msg: Message, context: Context) => {\n  const arrays = msg.content.arrayRecords.get("arrays")!;\n  const d = data(context);\n  const loss = mse(arrays.get("w")!.toTypedArray("float32"), arrays.get("b")!.toTypedArray("float32")[0]!, d);\n  const content = new RecordDict({\n    metrics: new MetricRecord({ "num-examples": BigInt(d.n), eval_loss: loss }),\n  });\n  return new Message(content, { replyTo: msg });\n});\n';

/** The generated `server_app.ts`. */
export const SERVER_APP_TS =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the source code of a generated file
  '/** The ServerApp: FedAvg over the linear model for `num-server-rounds` rounds. */\nimport { type Context, FedAvg, type Grid, ServerApp } from "@flwr-ts/core";\nimport { toArrays } from "./task.js";\n\nexport const app = new ServerApp();\n\napp.main()(async (grid: Grid, context: Context) => {\n  const numRounds = Number(context.runConfig["num-server-rounds"]);\n  const strategy = new FedAvg({ fractionEvaluate: 1.0 });\n  const result = await strategy.start({\n    grid,\n    initialArrays: toArrays([0, 0], 0),\n    numRounds,\n  });\n  const w = result.arrays.get("w")!.toTypedArray("float32");\n  console.log(`final model: w=[${Array.from(w, (v) => Number(v).toFixed(3)).join(", ")}]`);\n});\n';

/** The generated `package.json`. */
export function packageJson(name: string, publisher: string): string {
  const version = packageVersion();
  return `${JSON.stringify(
    {
      name,
      version: "1.0.0",
      description: `${name}: a Flower app in TypeScript`,
      type: "module",
      license: "Apache-2.0",
      dependencies: { "@flwr-ts/core": `^${version}` },
      // The SuperLink, SuperNode and `flwr` the README's commands run (`npx …`).
      devDependencies: { "@flwr-ts/transport": `^${version}` },
      flwr: {
        app: {
          publisher,
          components: { serverapp: "server_app.ts:app", clientapp: "client_app.ts:app" },
          config: { "num-server-rounds": 3, "learning-rate": 0.3, "local-epochs": 5 },
        },
        federations: {
          default: "local-deployment",
          "local-deployment": { address: "127.0.0.1:9093", insecure: true },
        },
      },
    },
    null,
    2,
  )}\n`;
}

/** The generated `README.md`. */
export function readme(name: string): string {
  return [
    `# ${name}`,
    "",
    "A Flower app in TypeScript (flwr-ts).",
    "",
    "```bash",
    "npm install   # @flwr-ts/core for the app, @flwr-ts/transport for the commands below",
    "# terminal 1",
    "npx flower-superlink --insecure",
    "# terminals 2 and 3",
    "npx flower-supernode --insecure --superlink 127.0.0.1:9092 --clientappio-api-address 127.0.0.1:9094 --node-config 'partition-id=0'",
    "npx flower-supernode --insecure --superlink 127.0.0.1:9092 --clientappio-api-address 127.0.0.1:9095 --node-config 'partition-id=1'",
    "# terminal 4",
    "npx flwr run . local-deployment --stream",
    "```",
    "",
  ].join("\n");
}

/** Writes the app; returns its directory. @throws CliError when the name is invalid or the directory exists. */
export function scaffoldApp(name: string, publisher: string, parent: string): string {
  const problem = appNameProblem(name);
  if (problem) throw new CliError(`'${name}' is not a valid app name: ${problem}`);
  const dir = resolve(parent, name);
  if (existsSync(dir)) throw new CliError(`Directory ${dir} already exists; choose another name.`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), packageJson(name, publisher));
  writeFileSync(join(dir, "task.ts"), TASK_TS);
  writeFileSync(join(dir, "client_app.ts"), CLIENT_APP_TS);
  writeFileSync(join(dir, "server_app.ts"), SERVER_APP_TS);
  writeFileSync(join(dir, "README.md"), readme(name));
  writeFileSync(join(dir, ".gitignore"), "node_modules/\n*.fab\n");
  return dir;
}

/** The `flwr new` command. */
export const command: CliCommand = {
  spec: SPEC,
  async run(argv, io) {
    const parsed = parseCommandArgs(SPEC, argv);
    const [name, extra] = parsed.positionals;
    if (name === undefined) throw new UsageError("Missing argument 'name'.");
    if (extra !== undefined) throw new UsageError(`Got unexpected extra argument '${extra}'.`);
    const publisher = (parsed.values["publisher"] as string | undefined) ?? "flwrlabs";
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(publisher))
      throw new UsageError(
        `--publisher '${publisher}' may contain letters, digits, '-' and '_' only`,
      );
    const dir = scaffoldApp(
      name,
      publisher,
      (parsed.values["directory"] as string | undefined) ?? ".",
    );
    io.out(
      `🎊 Flower App creation successful.\n\nTo run your Flower App, start a SuperLink and two SuperNodes, then:\n\n\tflwr run ${dir} local-deployment --stream\n\n`,
    );
    return 0;
  },
};
