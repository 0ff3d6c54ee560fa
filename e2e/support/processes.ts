/**
 * Real child processes for end-to-end tests: spawn a built CLI, capture its
 * output, wait for a line, and make sure nothing outlives the test file.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "../../interop/python.js";

/** Absolute path of a built flwr-ts CLI entry point (run `pnpm build` first). */
export function cliPath(name: string): string {
  return join(repoRoot, "packages/flwr-transport/dist/cli", `${name}.js`);
}

/** A running child process with its combined output so far. */
export interface RunningProcess {
  readonly child: ChildProcess;
  /** stdout and stderr interleaved, as received. */
  output(): string;
  /** Resolves when the output matches `pattern` (rejects on exit or timeout). */
  waitFor(pattern: RegExp | string, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited(): Promise<number | string>;
  /** Sends `signal` and waits for exit (SIGKILL after `graceMs`). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | string>;
}

const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/** Kills every process started by {@link start} that is still running. */
export async function stopAll(): Promise<void> {
  await Promise.all(
    [...live].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGKILL");
        }),
    ),
  );
  live.clear();
}

/**
 * Starts `command args` (a node script when `command` ends in `.js`).
 * @param options.env - extra environment variables.
 */
export function start(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): RunningProcess {
  const isScript = command.endsWith(".js");
  const child = spawn(isScript ? process.execPath : command, isScript ? [command, ...args] : args, {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(child);
  let out = "";
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString("utf8");
    for (const w of waiters) w();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exit = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => {
      live.delete(child);
      for (const w of waiters) w();
      resolve(code ?? signal ?? -1);
    });
  });
  const running: RunningProcess = {
    child,
    output: () => out,
    waitFor(pattern, timeoutMs = 15_000) {
      const matches = () =>
        typeof pattern === "string" ? out.includes(pattern) : pattern.test(out);
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (matches()) {
            cleanup();
            resolve();
          } else if (child.exitCode !== null || child.signalCode !== null) {
            cleanup();
            reject(new Error(`process exited before printing ${pattern}; output:\n${out}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; output:\n${out}`),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    exited: () => exit,
    async stop(signal = "SIGTERM", graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exit;
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const result = await exit;
      clearTimeout(timer);
      return result;
    },
  };
  return running;
}

/** Runs a command to completion and returns its exit code and output. */
export async function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ code: number | string; output: string }> {
  const p = start(command, args, options);
  const timer = setTimeout(() => p.child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
  const code = await p.exited();
  clearTimeout(timer);
  return { code, output: p.output() };
}
