import { linkStateSuite } from "../../../test/link-state.suite.js";
import { MemoryLinkState } from "./memory-link-state.js";

linkStateSuite("MemoryLinkState", (options) => new MemoryLinkState(options));
