/**
 * Flower's `start_parent_process_monitor`: an app process or SuperExec started with
 * `--parent-pid` exits when its parent is gone, so nothing outlives a killed SuperLink or
 * SuperNode. Checked once a second (off the message path) with signal 0.
 *
 * flwr-ts parents also give their child a parent-death pipe (fd 3, named by
 * {@link PARENT_PIPE_FD_ENV}): the parent never writes to it, and the kernel closes its end when
 * the parent dies in any way (SIGKILL included), so the child sees end-of-file at once instead of
 * at its next check. A SIGKILLed SuperNode's SuperExec and `flwr-clientapp` thus exit within
 * milliseconds, one after the other. Parents that do not give one (Python Flower's) still get
 * the once-a-second check.
 */
import type { StdioOptions } from "node:child_process";
import { Socket } from "node:net";

/** Environment variable naming the child's end of the parent-death pipe (a file descriptor). */
export const PARENT_PIPE_FD_ENV = "FLWR_TS_PARENT_PIPE_FD";

/** The file descriptor of the parent-death pipe in a child spawned with {@link withParentPipe}. */
const PARENT_PIPE_FD = 3;

/** The parent-death pipes being watched (a reference keeps each one open). */
const watchedPipes = new Set<Socket>();

/** True while process `pid` exists (signal 0 probes without signalling). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Spawn options giving the child a parent-death pipe: `stdio` (its fds 0-2) plus a pipe as fd 3,
 * and the environment that names it.
 */
export function withParentPipe(
  stdio: "inherit" | "ignore" | "pipe",
  env: NodeJS.ProcessEnv = process.env,
): { stdio: StdioOptions; env: NodeJS.ProcessEnv } {
  return {
    stdio: [stdio, stdio, stdio, "pipe"],
    env: { ...env, [PARENT_PIPE_FD_ENV]: String(PARENT_PIPE_FD) },
  };
}

/**
 * Calls `onParentGone` once the parent-death pipe named by {@link PARENT_PIPE_FD_ENV} reaches
 * end-of-file. The variable is removed from this process's environment (it names this process's
 * fd, not a child's). Returns false when this process has no such pipe.
 */
export function watchParentPipe(onParentGone: () => void): boolean {
  const fdText = process.env[PARENT_PIPE_FD_ENV];
  delete process.env[PARENT_PIPE_FD_ENV];
  if (fdText === undefined || !/^\d+$/.test(fdText)) return false;
  let pipe: Socket;
  try {
    pipe = new Socket({ fd: Number(fdText), readable: true, writable: false });
  } catch {
    return false; // not an open pipe: the pid check below still runs
  }
  let fired = false;
  const gone = () => {
    if (fired) return;
    fired = true;
    onParentGone();
  };
  pipe.on("end", gone);
  pipe.on("close", gone);
  pipe.on("error", gone);
  pipe.resume(); // the parent never writes; reading is how end-of-file is seen
  pipe.unref();
  watchedPipes.add(pipe); // held for the life of the process
  return true;
}

/**
 * Calls `onParentGone` (default: exit with status 1) once `parentPid` no longer exists or this
 * process was re-parented, or at once when its parent-death pipe closes. Returns a function that
 * stops the periodic check.
 */
export function startParentMonitor(
  parentPid: number,
  onParentGone: () => void = () => process.exit(1),
  intervalMs = 1000,
): () => void {
  let fired = false;
  const once = () => {
    if (fired) return;
    fired = true;
    clearInterval(timer);
    onParentGone();
  };
  const timer = setInterval(() => {
    if (!processAlive(parentPid) || process.ppid !== parentPid) once();
  }, intervalMs);
  timer.unref();
  watchParentPipe(once);
  return () => clearInterval(timer);
}
