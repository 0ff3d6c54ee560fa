/**
 * `pnpm demo`: Flower's authentication example end to end with flwr-ts (certificates, keys,
 * dataset, SuperLink with TLS and SuperNode authentication, registration, two SuperNodes,
 * `flwr run --stream`, a chart of the per-round metrics). See
 * `examples/authexample/demo/run-demo.ts`; `pnpm demo --help` lists the options.
 *
 * Exit codes: 0 success, 1 a step failed (every process is stopped), 2 bad options,
 * 130 interrupted (Ctrl-C; every process is stopped).
 */
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { DEMO_USAGE, DemoUsageError, parseDemoArgs } from "../examples/authexample/demo/args.js";
import { DemoInterrupted, runDemo } from "../examples/authexample/demo/run-demo.js";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const appDir = join(repoRoot, "examples", "authexample");

async function main(): Promise<number> {
  let options: ReturnType<typeof parseDemoArgs>;
  try {
    options = parseDemoArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof DemoUsageError) {
      process.stderr.write(`error: ${error.message}\n\n${DEMO_USAGE}`);
      return 2;
    }
    throw error;
  }
  if (options.help) {
    process.stdout.write(DEMO_USAGE);
    return 0;
  }
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts === 1) {
      process.stdout.write(
        `\n[demo] ${signal}: stopping every process (press Ctrl-C again to force)\n`,
      );
      controller.abort();
    } else {
      process.exit(130);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const color = process.stdout.isTTY === true && process.env["NO_COLOR"] === undefined;
  try {
    const result = await runDemo(options, {
      repoRoot,
      appDir,
      print: (line) => process.stdout.write(`${line}\n`),
      color,
      signal: controller.signal,
    });
    const here = (p: string) => relative(process.cwd(), p) || p;
    const acc = result.finalAccuracy === undefined ? "n/a" : result.finalAccuracy.toFixed(4);
    process.stdout.write(
      [
        "",
        `[demo] DONE in ${result.durationSeconds.toFixed(1)} s (flwr run: ${result.runSeconds.toFixed(1)} s)`,
        `[demo] final accuracy: ${acc} after ${result.metrics.rounds.length} rounds${result.synthetic ? " (SYNTHETIC stand-in for CIFAR-10)" : " (CIFAR-10)"}`,
        `[demo] chart: ${here(result.chartPath)}`,
        `[demo] final model: ${here(result.modelPath)}`,
        "",
      ].join("\n"),
    );
    return 0;
  } catch (error) {
    if (error instanceof DemoInterrupted || controller.signal.aborted) {
      process.stdout.write("[demo] interrupted; every process was stopped\n");
      return 130;
    }
    process.stderr.write(`\n[demo] FAILED: ${(error as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main();
