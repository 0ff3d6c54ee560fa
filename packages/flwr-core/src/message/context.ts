/** `Context`: per-run, per-node state and configuration (Python Flower's `Context`). */
import { RecordDict } from "../records/record-dict.js";
import { classifyScalar, type Scalar } from "../records/scalar.js";
import { MessageValidationError } from "./errors.js";
import { checkUint64 } from "./metadata.js";

/** A user config (`run_config`, `node_config`): key → scalar. Integers are `bigint`, floats `number`. */
export type UserConfig = Record<string, Scalar>;

/** Fields of a {@link Context}. */
export interface ContextInit {
  /** Run id. */
  runId: bigint;
  /** Node id (1 for the ServerApp side). */
  nodeId: bigint;
  /** Node config (from `--node-config`). */
  nodeConfig?: UserConfig;
  /** State kept locally across rounds. */
  state?: RecordDict;
  /** Run config (from `pyproject.toml` and `--run-config`). */
  runConfig?: UserConfig;
}

/** Checks a user config; returns a fresh null-prototype copy. */
export function checkUserConfig(name: string, config: unknown): UserConfig {
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new MessageValidationError(`${name} must be an object of key → value`);
  }
  const out: UserConfig = Object.create(null);
  for (const [k, v] of Object.entries(config)) {
    classifyScalar(v, k);
    out[k] = v as Scalar;
  }
  return out;
}

/** The context of a run on one node. */
export class Context {
  /** Run id. */
  runId: bigint;
  /** Node id. */
  nodeId: bigint;
  /** Node config. */
  nodeConfig: UserConfig;
  /** Local state. */
  state: RecordDict;
  /** Run config. */
  runConfig: UserConfig;

  /** @throws MessageValidationError / RecordValueError for invalid fields. */
  constructor(init: ContextInit) {
    this.runId = checkUint64("runId", init.runId);
    this.nodeId = checkUint64("nodeId", init.nodeId);
    this.nodeConfig = checkUserConfig("nodeConfig", init.nodeConfig ?? {});
    this.runConfig = checkUserConfig("runConfig", init.runConfig ?? {});
    const state = init.state ?? new RecordDict();
    if (!(state instanceof RecordDict))
      throw new MessageValidationError("state must be a RecordDict");
    this.state = state;
  }
}
