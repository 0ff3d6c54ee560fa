/** The SuperLink's {@link FabInspector}: reads a FAB (Python's or flwr-ts's) and verifies its manifest. */
import { readFabContents } from "../../app-runtime/fab-metadata.js";
import type { FabInspector } from "./control-runs.js";

/** Reads identity and config keys of a FAB; throws `InvalidFabError` with what is wrong. */
export const inspectFab: FabInspector = (content) => {
  const fab = readFabContents(content);
  return {
    fabId: fab.fabId,
    fabVersion: fab.fabVersion,
    configKeys: new Set(Object.keys(fab.config)),
  };
};
