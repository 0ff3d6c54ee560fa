/**
 * Differential-privacy mods for ClientApps, as Flower's `flwr/clientapp/mod/centraldp_mods.py`
 * and `localdp_mod.py`:
 * - {@link fixedClippingMod}: clips the node's model update to the `clipping_norm` the server's
 *   {@link DifferentialPrivacyClientSideFixedClipping} sends;
 * - {@link adaptiveClippingMod}: the same, and reports whether it clipped (`norm_bit`) for the
 *   server's adaptive clipping;
 * - {@link LocalDpMod}: local DP — clips to a fixed norm and adds Gaussian noise of deviation
 *   `sensitivity · √(2 ln(1.25/δ)) / ε` before the update leaves the node.
 * Each expects one ArrayRecord in the instruction and in the reply with the same keys (and one
 * ConfigRecord with the clipping norm for the central-DP mods) and answers Flower's
 * MOD_FAILED_PRECONDITION error reply otherwise. Use them last among mods that change arrays.
 *
 * Difference from Flower: a precondition failure found in the reply is answered as a reply to
 * the instruction (Flower builds its error message as a reply to the reply).
 */
import {
  addGaussianNoiseInPlace,
  clipModelUpdate,
  localDpStdv,
  type NormalSource,
  secureNormalSource,
} from "../../dp/differential-privacy.js";
import { ErrorCode, MessageError } from "../../message/error.js";
import { Message } from "../../message/message.js";
import { ArrayRecord } from "../../records/array-record.js";
import { ConfigRecord } from "../../records/config-record.js";
import { MetricRecord } from "../../records/metric-record.js";
import { KEY_CLIPPING_NORM, KEY_NORM_BIT } from "../../strategy/dp-replies.js";
import { readFloatArrays, writeFloatArrays } from "../../strategy/float-arrays.js";
import { consoleLogger, type Logger } from "../logger.js";
import type { Mod } from "../mod.js";

type RecordClass = typeof ArrayRecord | typeof ConfigRecord | typeof MetricRecord;

function failed(logger: Logger, instruction: Message, reason: string): Message {
  logger.log("ERROR", reason);
  return new Message(new MessageError(ErrorCode.MOD_FAILED_PRECONDITION, reason), {
    replyTo: instruction,
  });
}

function multiRecord(
  logger: Logger,
  instruction: Message,
  mod: string,
  checked: Message,
  kind: RecordClass,
): Message {
  let count = 0;
  for (const record of checked.content.values()) if (record instanceof kind) count += 1;
  return failed(
    logger,
    instruction,
    `${mod} expects exactly one ${kind.name}, but found ${count} ${kind.name}(s).`,
  );
}

function keyMismatch(logger: Logger, instruction: Message, mod: string): Message {
  return failed(
    logger,
    instruction,
    `${mod} expects the keys in the ArrayRecord of the reply message to match those from the ArrayRecord that the ClientApp received, but they do not.`,
  );
}

function sameKeys(a: ArrayRecord, b: ArrayRecord): boolean {
  const ka = [...a.keys()];
  const kb = [...b.keys()];
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}

/** The single record of `kind` in `message`, or undefined when there is not exactly one. */
function single<R>(records: Map<string, R>): [string, R] | undefined {
  return records.size === 1 ? [...records][0] : undefined;
}

/** Options of {@link createFixedClippingMod} and {@link createAdaptiveClippingMod}. */
export interface DpModOptions {
  /** Where the mod logs (default: {@link consoleLogger}). */
  logger?: Logger;
}

function centralDpMod(name: string, adaptive: boolean, options: DpModOptions): Mod {
  const logger = options.logger ?? consoleLogger;
  return async (message, context, callNext) => {
    const sent = single(message.content.arrayRecords);
    if (!sent) return multiRecord(logger, message, name, message, ArrayRecord);
    const config = single(message.content.configRecords);
    if (!config) return multiRecord(logger, message, name, message, ConfigRecord);
    const norm = config[1].get(KEY_CLIPPING_NORM);
    if (norm === undefined)
      return failed(
        logger,
        message,
        `${name} requires the key '${KEY_CLIPPING_NORM}' to be present in the ConfigRecord, but it was not found. Please ensure the \`DifferentialPrivacyClientSideFixedClipping\` wrapper is used in the ServerApp.`,
      );
    const clippingNorm = Number(norm);
    const reply = await callNext(message, context);
    if (reply.hasError()) return reply;
    const back = single(reply.content.arrayRecords);
    if (!back) return multiRecord(logger, message, name, reply, ArrayRecord);
    const metrics = adaptive ? single(reply.content.metricRecords) : undefined;
    if (adaptive && !metrics) return multiRecord(logger, message, name, reply, MetricRecord);
    if (!sameKeys(sent[1], back[1])) return keyMismatch(logger, message, name);
    const arrays = readFloatArrays(back[1]);
    const normBit = clipModelUpdate(arrays, readFloatArrays(sent[1]), clippingNorm);
    logger.log(
      "INFO",
      `${name}: ${adaptive ? "ndarrays" : "parameters"} are clipped by value: ${clippingNorm.toFixed(4)}.`,
    );
    reply.content.set(back[0], writeFloatArrays(arrays));
    // MetricRecord has no booleans: the bit goes as an int, as in Flower.
    if (metrics) metrics[1].set(KEY_NORM_BIT, normBit ? 1n : 0n);
    return reply;
  };
}

/** A {@link fixedClippingMod} that logs to `options.logger`. */
export function createFixedClippingMod(options: DpModOptions = {}): Mod {
  return centralDpMod("fixedclipping_mod", false, options);
}

/** A {@link adaptiveClippingMod} that logs to `options.logger`. */
export function createAdaptiveClippingMod(options: DpModOptions = {}): Mod {
  return centralDpMod("adaptiveclipping_mod", true, options);
}

/**
 * Client-side fixed clipping (Flower's `fixedclipping_mod`), for the server's
 * `DifferentialPrivacyClientSideFixedClipping`: clips the update the handler returns to the
 * instruction's `clipping_norm`.
 */
export const fixedClippingMod: Mod = createFixedClippingMod();

/**
 * Client-side adaptive clipping (Flower's `adaptiveclipping_mod`), for the server's
 * `DifferentialPrivacyClientSideAdaptiveClipping`: clips like {@link fixedClippingMod} and adds
 * `norm_bit` (1 when the update was clipped) to the reply's MetricRecord.
 */
export const adaptiveClippingMod: Mod = createAdaptiveClippingMod();

/** Options of {@link LocalDpMod} (Flower's positional arguments, by name). */
export interface LocalDpModOptions extends DpModOptions {
  /** Clipping norm (> 0). */
  clippingNorm: number;
  /** Sensitivity of the model (≥ 0). */
  sensitivity: number;
  /** Privacy budget ε (≥ 0; smaller is more private). */
  epsilon: number;
  /** Failure probability δ (≥ 0). */
  delta: number;
  /** Noise source (default: the OS's CSPRNG; `seededNormalSource(seed)` for tests). */
  normal?: NormalSource;
}

/**
 * Local differential privacy (Flower's `LocalDpMod`): clips the node's update to
 * `clippingNorm` and adds Gaussian noise before the reply leaves the node.
 * `new ClientApp({ mods: [new LocalDpMod({ … }).mod] })`.
 */
export class LocalDpMod {
  /** The mod to put in a ClientApp's `mods`. */
  readonly mod: Mod;
  /** The noise deviation added to every parameter. */
  readonly stdDev: number;

  /** @throws RangeError with Flower's messages for out-of-range options. */
  constructor(readonly options: LocalDpModOptions) {
    if (options.clippingNorm <= 0)
      throw new RangeError("The clipping norm should be a positive value.");
    if (options.sensitivity < 0)
      throw new RangeError("The sensitivity should be a non-negative value.");
    if (options.epsilon < 0) throw new RangeError("Epsilon should be a non-negative value.");
    if (options.delta < 0) throw new RangeError("Delta should be a non-negative value.");
    const logger = options.logger ?? consoleLogger;
    const normal = options.normal ?? secureNormalSource();
    const stdDev = localDpStdv(options.sensitivity, options.epsilon, options.delta);
    this.stdDev = stdDev;
    const name = "LocalDpMod";
    this.mod = async (message, context, callNext) => {
      const sent = single(message.content.arrayRecords);
      if (!sent) return multiRecord(logger, message, name, message, ArrayRecord);
      const reply = await callNext(message, context);
      if (reply.hasError()) return reply;
      const back = single(reply.content.arrayRecords);
      if (!back) return multiRecord(logger, message, name, reply, ArrayRecord);
      if (!sameKeys(sent[1], back[1])) return keyMismatch(logger, message, name);
      const arrays = readFloatArrays(back[1]);
      clipModelUpdate(arrays, readFloatArrays(sent[1]), options.clippingNorm);
      logger.log(
        "INFO",
        `LocalDpMod: parameters are clipped by value: ${options.clippingNorm.toFixed(4)}.`,
      );
      addGaussianNoiseInPlace(arrays, stdDev, normal);
      logger.log(
        "INFO",
        `LocalDpMod: local DP noise with ${stdDev.toFixed(4)} stddev added to parameters`,
      );
      reply.content.set(back[0], writeFloatArrays(arrays));
      return reply;
    };
  }
}
