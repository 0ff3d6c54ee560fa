/**
 * Opens the SuperLink's LinkState and ObjectStore for `--database`: `:flwr-in-memory:` gives
 * the in-memory implementations; `postgresql://…` PostgreSQL (shared by several SuperLinks);
 * any other value is SQLite (a file path, `:memory:` or a `sqlite:///` URL), both stores sharing
 * one connection (see `state/open-state.ts`).
 *
 * A SuperLink that fails to start after opening a new database file removes what it created
 * ({@link SuperLinkStores.discardIfCreated}), so a failed start leaves no new file behind.
 */
import { existsSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import type { ObjectStore } from "../../object-store/object-store.js";
import { ExitCode, FlowerExit } from "../flower-exit.js";
import { lockFileOf } from "../state/database-lock-file.js";
import type { LinkState, LinkStateOptions } from "../state/link-state.js";
import { openState, parseDatabaseOption } from "../state/open-state.js";
import { redactPostgresUrl } from "../state/postgres-url.js";

/** The opened stores of a SuperLink. */
export interface SuperLinkStores {
  /** Nodes, runs, messages, … */
  readonly state: LinkState;
  /** Message objects. */
  readonly store: ObjectStore;
  /**
   * After both stores are closed: deletes the database file and its `-wal`, `-shm` and `.lock`
   * companions when this open created the file (a failed start); otherwise does nothing.
   */
  discardIfCreated(): void;
}

/**
 * Opens the stores for `database` with the LinkState `options` (the log cap).
 * @throws FlowerExit when the database cannot be used.
 */
export async function openSuperLinkStores(
  database: string,
  options: LinkStateOptions = {},
): Promise<SuperLinkStores> {
  try {
    const location = parseDatabaseOption(database);
    const file = location.kind === "sqlite-file" ? resolve(location.file) : undefined;
    const created = file !== undefined && !existsSync(file);
    const opened = openState(database, options);
    return {
      state: opened.linkState,
      store: opened.objectStore,
      discardIfCreated() {
        if (!created || file === undefined) return;
        for (const path of [file, `${file}-wal`, `${file}-shm`, lockFileOf(file)]) {
          rmSync(path, { force: true });
        }
      },
    };
  } catch (error) {
    throw FlowerExit.code(
      ExitCode.SUPERLINK_INVALID_ARGS,
      `Cannot open --database ${redactPostgresUrl(database)}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
