/**
 * The demo's child processes: each runs in its own process group (so a SuperLink's SuperExec
 * and app processes go with it), its output lines are echoed with a `[name]` prefix, and
 * {@link ProcessGroup.stopAll} ends every group — SIGTERM, then SIGKILL after a grace period.
 */
import { type ChildProcess, spawn } from "node:child_process";

/** What a line-printing sink receives. */
export type LineSink = (line: string) => void;

/** How to start one child. */
export interface StartOptions {
  /** Display name, used as the `[name]` prefix. */
  name: string;
  /** Executable (e.g. `process.execPath`). */
  command: string;
  /** Arguments. */
  args: readonly string[];
  /** Working directory. */
  cwd: string;
  /** Environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Called with every output line (stdout and stderr), after it was echoed. */
  onLine?: (line: string) => void;
  /** Do not echo lines (they still reach `onLine` and {@link Child.output}). */
  quiet?: boolean;
}

/** A process failed or could not be started; `child` is its display name. */
export class ChildProcessError extends Error {
  /** The child's display name. */
  readonly child: string;

  /**
   * @param child - the child's display name.
   * @param message - what happened and what to look at.
   */
  constructor(child: string, message: string) {
    super(message);
    this.name = "ChildProcessError";
    this.child = child;
  }
}

/** A started child. */
export interface Child {
  /** Display name. */
  readonly name: string;
  /** Its pid, which is also its process-group id. */
  readonly pid: number;
  /** The underlying process. */
  readonly process: ChildProcess;
  /** All output lines so far. */
  output(): string[];
  /** Resolves with the exit code (or `signal:<NAME>`) when the process has exited. */
  readonly exited: Promise<number | string>;
  /** Resolves when an output line matches `pattern`; rejects on exit first or on timeout. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
}

const COLORS = [36, 35, 33, 32, 34, 31, 96, 95];

/** Whether process group `pgid` still has a live member. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A set of child processes that are stopped together. */
export class ProcessGroup {
  private readonly children: Child[] = [];
  private colorIndex = 0;
  private readonly color: boolean;

  /**
   * @param print - where prefixed lines go.
   * @param color - color the prefixes (e.g. on a TTY).
   */
  constructor(
    private readonly print: LineSink,
    color: boolean,
  ) {
    this.color = color;
  }

  /** Every child started so far (running or not). */
  list(): readonly Child[] {
    return this.children;
  }

  /**
   * Starts a child in its own process group.
   * @throws ChildProcessError when it cannot be spawned.
   */
  start(options: StartOptions): Child {
    const child = spawn(options.command, [...options.args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    if (child.pid === undefined) {
      throw new ChildProcessError(options.name, `could not start ${options.name}`);
    }
    const pid = child.pid;
    const code = COLORS[this.colorIndex++ % COLORS.length] as number;
    const prefix = this.color ? `\x1b[${code}m[${options.name}]\x1b[0m ` : `[${options.name}] `;
    const lines: string[] = [];
    const waiters = new Set<(line: string) => void>();
    const onLine = (line: string) => {
      lines.push(line);
      if (!options.quiet) this.print(prefix + line);
      options.onLine?.(line);
      for (const w of waiters) w(line);
    };
    for (const stream of [child.stdout, child.stderr]) {
      let rest = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        const parts = (rest + chunk).split(/\r?\n/);
        rest = parts.pop() ?? "";
        for (const part of parts) onLine(part);
      });
      stream.on("end", () => {
        if (rest !== "") onLine(rest);
        rest = "";
      });
    }
    const exited = new Promise<number | string>((resolve) => {
      child.once("error", (error) => {
        onLine(`failed to start: ${error.message}`);
        resolve(`error:${error.message}`);
      });
      child.once("close", (code, signal) => resolve(signal ? `signal:${signal}` : (code ?? 0)));
    });
    const entry: Child = {
      name: options.name,
      pid,
      process: child,
      output: () => lines,
      exited,
      waitForLine: (pattern, timeoutMs) =>
        new Promise<RegExpMatchArray>((resolve, reject) => {
          for (const line of lines) {
            const m = line.match(pattern);
            if (m) return resolve(m);
          }
          const done = () => {
            clearTimeout(timer);
            waiters.delete(check);
          };
          const check = (line: string) => {
            const m = line.match(pattern);
            if (m) {
              done();
              resolve(m);
            }
          };
          const timer = setTimeout(() => {
            done();
            reject(
              new ChildProcessError(
                options.name,
                `${options.name} did not print ${pattern} within ${Math.round(timeoutMs / 1000)} s`,
              ),
            );
          }, timeoutMs);
          waiters.add(check);
          void exited.then((status) => {
            if (!waiters.has(check)) return;
            done();
            reject(
              new ChildProcessError(
                options.name,
                `${options.name} exited (${status}) before printing ${pattern}`,
              ),
            );
          });
        }),
    };
    this.children.push(entry);
    return entry;
  }

  /**
   * Stops every child's process group, newest first (SuperNodes before the SuperLink, so they
   * can deactivate themselves): SIGTERM, then SIGKILL to what is left of a group after
   * `graceMs`. Resolves when no group has a live member.
   */
  async stopAll(graceMs = 5000): Promise<void> {
    for (const c of [...this.children].reverse()) {
      if (!groupAlive(c.pid)) continue;
      try {
        process.kill(-c.pid, "SIGTERM");
      } catch {
        // already gone
      }
      const deadline = Date.now() + graceMs;
      while (Date.now() < deadline && groupAlive(c.pid)) await sleep(50);
      if (!groupAlive(c.pid)) continue;
      try {
        process.kill(-c.pid, "SIGKILL");
      } catch {
        // already gone
      }
      const killDeadline = Date.now() + 2000;
      while (Date.now() < killDeadline && groupAlive(c.pid)) await sleep(20);
    }
  }

  /** Synchronous last resort (process `exit` handler): SIGKILL every group. */
  killAllNow(): void {
    for (const c of this.children) {
      try {
        process.kill(-c.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
}

/**
 * Runs a command to completion with prefixed output.
 * @returns its output lines.
 * @throws ChildProcessError when it exits with a non-zero status.
 */
export async function runToCompletion(
  group: ProcessGroup,
  options: StartOptions,
): Promise<string[]> {
  const child = group.start(options);
  const status = await child.exited;
  if (status !== 0) {
    throw new ChildProcessError(
      options.name,
      `${options.name} failed (${typeof status === "number" ? `exit code ${status}` : status}); see the [${options.name}] lines above`,
    );
  }
  return child.output();
}
