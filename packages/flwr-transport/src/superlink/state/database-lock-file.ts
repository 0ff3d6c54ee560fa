/**
 * The lock file beside a SuperLink's SQLite database (`state.db.lock`): it names the process
 * that holds the database, so a second SuperLink refused by SQLite's exclusive lock can say which
 * process to stop.
 *
 * The lock itself is SQLite's (`locking_mode = EXCLUSIVE`, a POSIX lock the kernel drops when
 * the holder dies, see `sqlite-database.ts`); this file only describes it. A file left behind by
 * a SIGKILLed SuperLink therefore blocks nothing: the next holder overwrites it, and a holder that
 * closes the database removes it when it still names itself.
 */
import { readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { processAlive } from "../../app-runtime/parent-monitor.js";

/** What the lock file records about the holder. */
export interface LockHolder {
  /** Process id of the holder. */
  readonly pid: number;
  /** When it took the lock (ISO 8601). */
  readonly since: string;
  /** Its command line (argv joined by spaces, cut at 200 characters). */
  readonly command: string;
}

/** The lock file of database `file`. */
export function lockFileOf(file: string): string {
  return `${file}.lock`;
}

/** Records this process as the holder of `file` (after SQLite granted the exclusive lock). */
export function writeLockHolder(file: string): void {
  const holder: LockHolder = {
    pid: process.pid,
    since: new Date().toISOString(),
    command: process.argv.join(" ").slice(0, 200),
  };
  try {
    writeFileSync(lockFileOf(file), `${JSON.stringify(holder)}\n`);
  } catch {
    // Informational only: a read-only directory still gets SQLite's lock.
  }
}

/** Removes the lock file of `file` when it names this process. */
export function removeLockHolder(file: string): void {
  if (readLockHolder(file)?.pid !== process.pid) return;
  try {
    unlinkSync(lockFileOf(file));
  } catch {
    // already gone
  }
}

/** The holder recorded beside `file`, or undefined when there is no readable lock file. */
export function readLockHolder(file: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(lockFileOf(file), "utf8")) as Partial<LockHolder>;
    if (typeof parsed.pid !== "number" || !Number.isInteger(parsed.pid)) return undefined;
    return {
      pid: parsed.pid,
      since: typeof parsed.since === "string" ? parsed.since : "?",
      command: typeof parsed.command === "string" ? parsed.command : "",
    };
  } catch {
    return undefined;
  }
}

/**
 * Names the process holding `file`'s lock, for the one-line refusal: the recorded live holder, or
 * an unknown process when the lock file is missing or names a process that no longer exists.
 */
export function describeLockHolder(file: string): string {
  const holder = readLockHolder(file);
  if (holder && holder.pid !== process.pid && processAlive(holder.pid)) {
    return `another SuperLink (pid ${holder.pid}, since ${holder.since}, lock file ${lockFileOf(file)})`;
  }
  return `another process (not named in ${lockFileOf(file)}: an older flwr-ts SuperLink, or a SQLite shell?)`;
}
