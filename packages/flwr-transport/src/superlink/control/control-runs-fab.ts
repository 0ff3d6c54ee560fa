/**
 * The SuperLink's {@link FabInspector}: reads a FAB (Python's or flwr-ts's) and verifies its
 * manifest, inflating on libuv's thread pool within the FAB reader's size caps (a zip bomb is
 * refused from its central directory and never blocks the event loop).
 */
import { readFabContentsAsync } from "../../app-runtime/fab-metadata.js";
import type { FabInspector } from "./control-runs.js";

/** Reads identity and config keys of a FAB; throws `InvalidFabError` with what is wrong. */
export const inspectFab: FabInspector = async (content) => {
  const fab = await readFabContentsAsync(content);
  return {
    fabId: fab.fabId,
    fabVersion: fab.fabVersion,
    configKeys: new Set(Object.keys(fab.config)),
  };
};
