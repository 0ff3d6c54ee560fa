import { MemoryObjectStore } from "./memory-object-store.js";
import { objectStoreSuite } from "./object-store.suite.js";

objectStoreSuite("memory", () => new MemoryObjectStore());
