/**
 * Opens the SuperLink's LinkState and ObjectStore for `--database`: `:flwr-in-memory:` gives
 * the in-memory implementations; any other value is a SQLite database (file path or `:memory:`).
 */
import { MemoryObjectStore } from "../../object-store/memory-object-store.js";
import type { ObjectStore } from "../../object-store/object-store.js";
import { ExitCode, FlowerExit } from "../flower-exit.js";
import type { LinkState } from "../state/link-state.js";
import { MemoryLinkState } from "../state/memory-link-state.js";
import { IN_MEMORY_DATABASE } from "./superlink-args.js";

/** Opens the stores for `database`. @throws FlowerExit when the database cannot be used. */
export async function openSuperLinkStores(
  database: string,
): Promise<{ state: LinkState; store: ObjectStore }> {
  if (database === IN_MEMORY_DATABASE)
    return { state: new MemoryLinkState(), store: new MemoryObjectStore() };
  throw FlowerExit.code(
    ExitCode.SUPERLINK_INVALID_ARGS,
    `--database ${database}: the SQLite LinkState is not available in this build yet; use the default in-memory database.`,
  );
}
