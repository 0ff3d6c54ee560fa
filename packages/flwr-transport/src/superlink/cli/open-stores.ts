/**
 * Opens the SuperLink's LinkState and ObjectStore for `--database`: `:flwr-in-memory:` gives
 * the in-memory implementations; any other value is SQLite (a file path, `:memory:` or a
 * `sqlite:///` URL), both stores sharing one connection (see `state/open-state.ts`).
 */
import type { ObjectStore } from "../../object-store/object-store.js";
import { ExitCode, FlowerExit } from "../flower-exit.js";
import type { LinkState } from "../state/link-state.js";
import { openState } from "../state/open-state.js";

/** Opens the stores for `database`. @throws FlowerExit when the database cannot be used. */
export async function openSuperLinkStores(
  database: string,
): Promise<{ state: LinkState; store: ObjectStore }> {
  try {
    const opened = openState(database);
    return { state: opened.linkState, store: opened.objectStore };
  } catch (error) {
    throw FlowerExit.code(
      ExitCode.SUPERLINK_INVALID_ARGS,
      `Cannot open --database ${database}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
