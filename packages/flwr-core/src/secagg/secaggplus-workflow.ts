/**
 * `SecAggPlusWorkflow`: the server side of SecAgg+ for a flwr-ts ServerApp, wire-compatible with
 * Flower 1.29's `SecAggPlusWorkflow` (and with Flower's `secaggplus_mod` on the nodes). One
 * {@link SecAggPlusWorkflow.fitRound} runs the four stages over the Grid — setup (configs out,
 * public keys in), share keys (neighbours' public keys out, encrypted shares in), collect masked
 * vectors (shares forwarded with the legacy fit instruction, masked updates in), unmask (share
 * requests, then the masks are removed) — and returns the weighted average of the nodes'
 * updates, which the server never sees individually. Nodes that drop after sharing keys are
 * recovered from their neighbours' shares as long as every neighbourhood keeps `threshold`
 * members.
 */
import { consoleLogger, type Logger } from "../app/logger.js";
import type { Grid } from "../grid/grid.js";
import { Message } from "../message/message.js";
import { MessageType } from "../message/message-type.js";
import { NdArray } from "../records/array.js";
import { ConfigRecord } from "../records/config-record.js";
import { RecordDict } from "../records/record-dict.js";
import type { ConfigValue } from "../records/scalar.js";
import {
  SecAggPlusKey as Key,
  SECAGGPLUS_CONFIGS_RECORD,
  SecAggPlusStage as Stage,
} from "./constants.js";
import { deriveSharedKey } from "./key-agreement.js";
import { arrayToFloat64, legacyFitInsRecordDict, readLegacyFitRes } from "./legacy-fit.js";
import { pseudoRandGen, shapeElements } from "./prg.js";
import { addMod, dequantize } from "./quantization.js";
import { combineShares } from "./shamir.js";

/** Options of {@link SecAggPlusWorkflow} (Flower's constructor arguments). */
export interface SecAggPlusWorkflowOptions {
  /**
   * Shares per private secret: an integer > 2, or a fraction in (0, 1] of the sampled nodes
   * (1 means all of them, as Flower reads the int 1).
   */
  numShares: number;
  /** Shares needed to reconstruct: an integer ≥ 2 below `numShares`, or a fraction in (0, 1]. */
  reconstructionThreshold: number;
  /** Largest weight (num_examples) of one node (default 1000). */
  maxWeight?: number;
  /** Parameters are clipped to ±clippingRange before quantisation (default 8). */
  clippingRange?: number;
  /** Quantisation levels (default 2^22). */
  quantizationRange?: number;
  /** Mask modulus, a power of two above `quantizationRange`, at most 2^32 (default 2^32). */
  modulusRange?: number;
  /** Seconds to wait for the replies of each stage (default: until all replied). */
  timeout?: number;
  /** Log lines (default: the console). */
  logger?: Logger;
}

/** What one secure fit round returns. */
export interface SecAggPlusRoundResult {
  /** The weighted average of the surviving nodes' updates (float64, the model's shapes). */
  parameters: NdArray[];
  /** Nodes whose masked update is in the sum, with their weights and fit metrics. */
  results: { nodeId: bigint; numExamples: number; metrics: Record<string, ConfigValue> }[];
  /** Nodes that replied with an error or not at all, by stage. */
  failures: { nodeId: bigint; stage: string; reason: string }[];
}

/** SecAgg+ stopped: too few nodes or shares (Flower logs and halts the round). */
export class SecAggPlusHaltedError extends Error {
  override name = "SecAggPlusHaltedError";
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

const intersect = (a: ReadonlySet<bigint>, b: ReadonlySet<bigint>) =>
  [...a].filter((x) => b.has(x));

/** The SecAgg+ server workflow (see the module documentation). */
export class SecAggPlusWorkflow {
  private readonly numShares: number;
  private readonly threshold: number;
  private readonly maxWeight: number;
  private readonly clippingRange: number;
  private readonly quantizationRange: number;
  private readonly modulusRange: number;
  private readonly timeout: number | undefined;
  private readonly logger: Logger;

  /** @throws RangeError for options Flower rejects. */
  constructor(options: SecAggPlusWorkflowOptions) {
    const { numShares, reconstructionThreshold } = options;
    this.maxWeight = options.maxWeight ?? 1000;
    this.clippingRange = options.clippingRange ?? 8;
    this.quantizationRange = options.quantizationRange ?? 4194304;
    this.modulusRange = options.modulusRange ?? 4294967296;
    this.timeout = options.timeout;
    this.logger = options.logger ?? consoleLogger;
    const fractional = (x: number) => !Number.isInteger(x) || x === 1;
    if (typeof numShares !== "number" || !(numShares > 0))
      throw new RangeError("`numShares` must be greater than 0.");
    if (fractional(numShares) && numShares > 1)
      throw new RangeError("`numShares` as a fraction must be at most 1.");
    if (!fractional(numShares) && numShares <= 2)
      throw new RangeError("`numShares` as an integer must be greater than 2.");
    const t = reconstructionThreshold;
    if (typeof t !== "number" || !(t > 0))
      throw new RangeError("`reconstructionThreshold` must be greater than 0.");
    if (fractional(t) && t > 1)
      throw new RangeError("`reconstructionThreshold` as a fraction must be at most 1.");
    if (!fractional(t) && !fractional(numShares) && t >= numShares) {
      throw new RangeError("`reconstructionThreshold` must be less than `numShares`.");
    }
    this.numShares = numShares;
    this.threshold = t;
    if (!(this.maxWeight > 0)) throw new RangeError("`maxWeight` must be greater than 0.");
    if (!(this.clippingRange > 0)) throw new RangeError("`clippingRange` must be greater than 0.");
    if (!Number.isInteger(this.quantizationRange) || this.quantizationRange <= 0) {
      throw new RangeError("`quantizationRange` must be an integer and greater than 0.");
    }
    if (!Number.isInteger(this.modulusRange) || this.modulusRange <= this.quantizationRange) {
      throw new RangeError(
        "`modulusRange` must be an integer and greater than `quantizationRange`.",
      );
    }
    if (!isPowerOfTwo(this.modulusRange) || this.modulusRange > 2 ** 32) {
      throw new RangeError("`modulusRange` must be a power of 2, at most 2^32.");
    }
    if (this.timeout !== undefined && !(this.timeout > 0))
      throw new RangeError("`timeout` must be positive.");
  }

  private async stage(
    grid: Grid,
    stage: string,
    round: number,
    targets: Iterable<bigint>,
    content: (nid: bigint) => RecordDict,
    failures: SecAggPlusRoundResult["failures"],
  ): Promise<Map<bigint, RecordDict>> {
    const nids = [...targets];
    const msgs = nids.map(
      (nid) => new Message(content(nid), nid, MessageType.TRAIN, { groupId: String(round) }),
    );
    const replies = await grid.sendAndReceive(
      msgs,
      this.timeout === undefined ? {} : { timeout: this.timeout },
    );
    const out = new Map<bigint, RecordDict>();
    for (const r of replies) {
      const src = r.metadata.srcNodeId;
      if (r.hasError())
        failures.push({ nodeId: src, stage, reason: r.error.reason ?? "error reply" });
      else if (r.content.configRecords.has(SECAGGPLUS_CONFIGS_RECORD)) out.set(src, r.content);
      else
        failures.push({
          nodeId: src,
          stage,
          reason: `no '${SECAGGPLUS_CONFIGS_RECORD}' in the reply`,
        });
    }
    for (const nid of nids) {
      if (!out.has(nid) && !failures.some((f) => f.nodeId === nid && f.stage === stage)) {
        failures.push({ nodeId: nid, stage, reason: "no reply" });
      }
    }
    return out;
  }

  /**
   * Runs one secure fit round on `nodeIds` with the global `parameters` and `config` (sent as
   * Flower's legacy fit instruction).
   * @throws SecAggPlusHaltedError when fewer than 2 nodes are given or a neighbourhood falls
   *   below the threshold (Flower halts the round then).
   */
  async fitRound(
    grid: Grid,
    args: {
      round: number;
      parameters: readonly NdArray[];
      config?: Record<string, ConfigValue>;
      nodeIds: readonly bigint[];
    },
  ): Promise<SecAggPlusRoundResult> {
    const { round } = args;
    const sampled = [...new Set(args.nodeIds)];
    const n = sampled.length;
    if (n < 2) throw new SecAggPlusHaltedError("The number of samples should be greater than 1.");
    let numShares: number;
    if (Number.isInteger(this.numShares) && this.numShares !== 1) numShares = this.numShares;
    else {
      numShares = Math.round(this.numShares * n);
      if (numShares < n && (numShares & 1) === 0) numShares += 1;
      if (numShares <= 2) numShares = n;
    }
    let threshold: number;
    if (Number.isInteger(this.threshold) && this.threshold !== 1) threshold = this.threshold;
    else threshold = Math.max(Math.round(this.threshold * numShares), 2);
    if (n !== numShares && (numShares & 1) === 0) {
      this.logger.log("WARNING", "Number of shares in the SecAgg+ protocol should be odd.");
      numShares += 1;
    }
    const order = shuffle([...sampled]);
    const half = numShares >> 1;
    const neighbours = new Map<bigint, Set<bigint>>();
    order.forEach((nid, idx) => {
      const set = new Set<bigint>();
      for (let off = -half; off <= half; off++) set.add(order[(((idx + off) % n) + n) % n]!);
      neighbours.set(nid, set);
    });
    const failures: SecAggPlusRoundResult["failures"] = [];
    const checkThreshold = (active: ReadonlySet<bigint>, stage: string) => {
      for (const nid of sampled) {
        if (intersect(neighbours.get(nid)!, active).length < threshold) {
          throw new SecAggPlusHaltedError(`Insufficient available nodes after the ${stage} stage.`);
        }
      }
    };
    const cfg = (entries: Record<string, ConfigValue>) => {
      const rd = new RecordDict();
      rd.set(SECAGGPLUS_CONFIGS_RECORD, new ConfigRecord(entries));
      return rd;
    };
    const m = this.modulusRange;

    // Stage 0: setup
    const setupCfg = {
      [Key.STAGE]: Stage.SETUP,
      [Key.SAMPLE_NUMBER]: BigInt(n),
      [Key.SHARE_NUMBER]: BigInt(numShares),
      [Key.THRESHOLD]: BigInt(threshold),
      [Key.CLIPPING_RANGE]: this.clippingRange,
      [Key.TARGET_RANGE]: BigInt(this.quantizationRange),
      [Key.MOD_RANGE]: BigInt(m),
      [Key.MAX_WEIGHT]: this.maxWeight,
    };
    const keysIn = await this.stage(
      grid,
      Stage.SETUP,
      round,
      sampled,
      () => cfg(setupCfg),
      failures,
    );
    const publicKeys = new Map<bigint, [Uint8Array, Uint8Array]>();
    for (const [nid, rd] of keysIn) {
      const rec = rd.configRecords.get(SECAGGPLUS_CONFIGS_RECORD)!;
      const pk1 = rec.get(Key.PUBLIC_KEY_1);
      const pk2 = rec.get(Key.PUBLIC_KEY_2);
      if (pk1 instanceof Uint8Array && pk2 instanceof Uint8Array) publicKeys.set(nid, [pk1, pk2]);
      else failures.push({ nodeId: nid, stage: Stage.SETUP, reason: "public keys missing" });
    }
    let active = new Set(publicKeys.keys());
    checkThreshold(active, Stage.SETUP);

    // Stage 1: share keys
    const sharesIn = await this.stage(
      grid,
      Stage.SHARE_KEYS,
      round,
      active,
      (nid) => {
        const entries: Record<string, ConfigValue> = {};
        for (const nb of intersect(neighbours.get(nid)!, active))
          entries[nb.toString()] = publicKeys.get(nb)!;
        entries[Key.STAGE] = Stage.SHARE_KEYS;
        return cfg(entries);
      },
      failures,
    );
    const keyShared = new Set(sharesIn.keys());
    const fwdSrcs = new Map<bigint, bigint[]>([...keyShared].map((nid) => [nid, []]));
    const fwdCtxts = new Map<bigint, Uint8Array[]>([...keyShared].map((nid) => [nid, []]));
    for (const [src, rd] of sharesIn) {
      const rec = rd.configRecords.get(SECAGGPLUS_CONFIGS_RECORD)!;
      const dsts = rec.get(Key.DESTINATION_LIST);
      const ctxts = rec.get(Key.CIPHERTEXT_LIST);
      if (!Array.isArray(dsts) || !Array.isArray(ctxts) || dsts.length !== ctxts.length) {
        failures.push({ nodeId: src, stage: Stage.SHARE_KEYS, reason: "malformed share lists" });
        keyShared.delete(src);
        continue;
      }
      dsts.forEach((dst, i) => {
        if (typeof dst === "bigint" && ctxts[i] instanceof Uint8Array && fwdSrcs.has(dst)) {
          fwdSrcs.get(dst)!.push(src);
          fwdCtxts.get(dst)!.push(ctxts[i] as Uint8Array);
        }
      });
    }
    active = keyShared;
    checkThreshold(active, Stage.SHARE_KEYS);

    // Stage 2: collect masked vectors
    const fitIns = { parameters: [...args.parameters], config: args.config ?? {} };
    const maskedIn = await this.stage(
      grid,
      Stage.COLLECT_MASKED_VECTORS,
      round,
      active,
      (nid) => {
        const rd = legacyFitInsRecordDict(fitIns);
        rd.set(
          SECAGGPLUS_CONFIGS_RECORD,
          new ConfigRecord({
            [Key.STAGE]: Stage.COLLECT_MASKED_VECTORS,
            [Key.CIPHERTEXT_LIST]: fwdCtxts.get(nid)!,
            [Key.SOURCE_LIST]: fwdSrcs.get(nid)!,
          }),
        );
        return rd;
      },
      failures,
    );
    let sum: Float64Array[] | undefined;
    let shapes: (readonly number[])[] = [];
    const results: SecAggPlusRoundResult["results"] = [];
    for (const [nid, rd] of maskedIn) {
      try {
        const bytes = rd.configRecords.get(SECAGGPLUS_CONFIGS_RECORD)!.get(Key.MASKED_PARAMETERS);
        if (!Array.isArray(bytes) || !bytes.every((b) => b instanceof Uint8Array))
          throw new Error("no masked_params");
        const arrays = (bytes as Uint8Array[]).map((b) => NdArray.fromNpy(b));
        const fit = readLegacyFitRes(rd);
        if (sum === undefined) {
          shapes = arrays.map((a) => a.shape);
          sum = arrays.map((a) => new Float64Array(shapeElements(a.shape)));
        }
        if (
          arrays.length !== sum.length ||
          arrays.some((a, i) => shapeElements(a.shape) !== sum![i]!.length)
        ) {
          throw new Error("masked vectors of another layout");
        }
        const acc = sum;
        arrays.forEach((a, i) => {
          addMod(acc[i]!, arrayToFloat64(a), m);
        });
        results.push({ nodeId: nid, numExamples: fit.numExamples, metrics: fit.metrics ?? {} });
      } catch (e) {
        failures.push({
          nodeId: nid,
          stage: Stage.COLLECT_MASKED_VECTORS,
          reason: (e as Error).message,
        });
      }
    }
    const survivors = new Set(results.map((r) => r.nodeId));
    checkThreshold(survivors, Stage.COLLECT_MASKED_VECTORS);
    const dead = new Set([...keyShared].filter((nid) => !survivors.has(nid)));

    // Stage 3: unmask
    const unmaskIn = await this.stage(
      grid,
      Stage.UNMASK,
      round,
      survivors,
      (nid) =>
        cfg({
          [Key.STAGE]: Stage.UNMASK,
          [Key.ACTIVE_NODE_ID_LIST]: intersect(neighbours.get(nid)!, survivors),
          [Key.DEAD_NODE_ID_LIST]: intersect(neighbours.get(nid)!, dead),
        }),
      failures,
    );
    const collected = new Map<bigint, Uint8Array[]>(
      [...survivors, ...dead].map((nid) => [nid, []]),
    );
    for (const [nid, rd] of unmaskIn) {
      const rec = rd.configRecords.get(SECAGGPLUS_CONFIGS_RECORD)!;
      const nids = rec.get(Key.NODE_ID_LIST);
      const shares = rec.get(Key.SHARE_LIST);
      if (!Array.isArray(nids) || !Array.isArray(shares) || nids.length !== shares.length) {
        failures.push({ nodeId: nid, stage: Stage.UNMASK, reason: "malformed share lists" });
        continue;
      }
      nids.forEach((owner, i) => {
        if (typeof owner === "bigint" && shares[i] instanceof Uint8Array)
          collected.get(owner)?.push(shares[i] as Uint8Array);
      });
    }
    const masked = sum!;
    const maskShapes = shapes;
    for (const [nid, shares] of collected) {
      if (shares.length < threshold) {
        throw new SecAggPlusHaltedError(
          "Not enough shares to recover secret in unmask vectors stage",
        );
      }
      const secret = combineShares(shares);
      if (survivors.has(nid)) {
        const mask = pseudoRandGen(secret, m, maskShapes);
        masked.forEach((v, i) => {
          addMod(v, mask[i]!, m, -1);
        });
      } else {
        for (const nb of neighbours.get(nid)!) {
          if (nb === nid || !survivors.has(nb)) continue;
          const key = deriveSharedKey(secret, publicKeys.get(nb)![0]);
          const mask = pseudoRandGen(key, m, maskShapes);
          // the survivor nb added +mask if nb > nid, -mask otherwise; undo it
          const sign = nid > nb ? 1 : -1;
          masked.forEach((v, i) => {
            addMod(v, mask[i]!, m, sign);
          });
        }
      }
    }
    const qTotal = masked[0]![0]!;
    const inv = this.quantizationRange / qTotal;
    const offset = -(survivors.size - 1) * this.clippingRange;
    const parameters = masked.slice(1).map((v, i) => {
      const x = dequantize(v, this.clippingRange, this.quantizationRange);
      for (let j = 0; j < x.length; j++) x[j] = (x[j]! + offset) * inv;
      return NdArray.fromTypedArray(x, maskShapes[i + 1], "float64");
    });
    this.logger.log(
      "INFO",
      `aggregate_fit: received ${results.length} results and ${failures.length} failures`,
    );
    return { parameters, results, failures };
  }
}
