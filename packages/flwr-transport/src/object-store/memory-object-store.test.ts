import { objectStoreSuite } from "../../test/object-store.suite.js";
import { MemoryObjectStore } from "./memory-object-store.js";

objectStoreSuite("memory", () => new MemoryObjectStore());
