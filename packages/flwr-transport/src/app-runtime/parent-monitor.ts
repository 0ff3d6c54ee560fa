/**
 * Flower's `start_parent_process_monitor`: an app process or SuperExec started with
 * `--parent-pid` exits when its parent is gone, so nothing outlives a killed SuperLink or
 * SuperNode. Checked once a second (off the message path) with signal 0.
 */

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
 * Calls `onParentGone` (default: exit with status 1) once `parentPid` no longer exists or this
 * process was re-parented. Returns a function that stops watching.
 */
export function startParentMonitor(
  parentPid: number,
  onParentGone: () => void = () => process.exit(1),
  intervalMs = 1000,
): () => void {
  const timer = setInterval(() => {
    if (!processAlive(parentPid) || process.ppid !== parentPid) {
      clearInterval(timer);
      onParentGone();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
