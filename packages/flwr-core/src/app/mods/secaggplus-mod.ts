/**
 * `secAggPlusMod`: the client side of SecAgg+ (Flower 1.29's `secaggplus_mod`), wire-compatible
 * with Flower's `SecAggPlusWorkflow` and with flwr-ts's {@link SecAggPlusWorkflow}. It answers
 * the four stages of `train` messages by itself — setup (fresh SECP384R1 key pairs, public keys
 * up), share keys (Shamir shares of the mask seed and of the first private key, Fernet-encrypted
 * for each neighbour), collect masked vectors (runs the ClientApp, whose reply must be a legacy
 * fit reply — see {@link legacyFitResRecordDict} — and uploads the masked, quantised update in
 * place of its arrays), unmask (shares for the survivors' seeds and the dropped nodes' keys).
 * The protocol state lives in `Context.state` (ConfigRecord `secaggplus_state`). Other message
 * types pass through.
 */
import { randomBytes } from "node:crypto";
import type { Context } from "../../message/context.js";
import { Message } from "../../message/message.js";
import { MessageType } from "../../message/message-type.js";
import { ConfigRecord } from "../../records/config-record.js";
import { RecordDict } from "../../records/record-dict.js";
import type { ConfigValue } from "../../records/scalar.js";
import {
  SecAggPlusKey as Key,
  SECAGGPLUS_CONFIGS_RECORD,
  SECAGGPLUS_STAGES,
  SECAGGPLUS_STATE_RECORD,
  type SecAggPlusStageName,
  SecAggPlusStage as Stage,
} from "../../secagg/constants.js";
import { fernetDecrypt, fernetEncrypt } from "../../secagg/fernet.js";
import { deriveSharedKey, generateSecAggKeyPair } from "../../secagg/key-agreement.js";
import { arrayToFloat64, readLegacyFitRes } from "../../secagg/legacy-fit.js";
import { maskUpdate } from "../../secagg/masking.js";
import { createShares } from "../../secagg/shamir.js";
import { concatSharePlaintext, separateSharePlaintext } from "../../secagg/share-plaintext.js";
import type { ClientAppCallable } from "../mod.js";

/** A SecAgg+ protocol violation seen by the mod (the ClientApp then replies with an error). */
export class SecAggPlusError extends Error {
  override name = "SecAggPlusError";
}

interface State {
  stage: SecAggPlusStageName;
  nid: bigint;
  sampleNum: number;
  shareNum: number;
  threshold: number;
  clippingRange: number;
  targetRange: number;
  modRange: number;
  maxWeight: number;
  sk1: Uint8Array;
  pk1: Uint8Array;
  sk2: Uint8Array;
  pk2: Uint8Array;
  rdSeed: Uint8Array;
  rdSeedShares: Map<bigint, Uint8Array>;
  sk1Shares: Map<bigint, Uint8Array>;
  ss2: Map<bigint, Uint8Array>;
  publicKeys: Map<bigint, [Uint8Array, Uint8Array]>;
}

const EMPTY = new Uint8Array();

function freshState(): State {
  return {
    stage: Stage.UNMASK,
    nid: 0n,
    sampleNum: 0,
    shareNum: 0,
    threshold: 0,
    clippingRange: 0,
    targetRange: 0,
    modRange: 0,
    maxWeight: 0,
    sk1: EMPTY,
    pk1: EMPTY,
    sk2: EMPTY,
    pk2: EMPTY,
    rdSeed: EMPTY,
    rdSeedShares: new Map(),
    sk1Shares: new Map(),
    ss2: new Map(),
    publicKeys: new Map(),
  };
}

// State layout in Context.state, as Flower's SecAggPlusState.to_dict (dicts as ":K"/":V" lists).
function saveState(s: State): ConfigRecord {
  const dict = (m: Map<bigint, Uint8Array>) => [[...m.keys()], [...m.values()]] as const;
  const [rk, rv] = dict(s.rdSeedShares);
  const [sk, sv] = dict(s.sk1Shares);
  const [ek, ev] = dict(s.ss2);
  return new ConfigRecord({
    current_stage: s.stage,
    nid: s.nid,
    sample_num: BigInt(s.sampleNum),
    share_num: BigInt(s.shareNum),
    threshold: BigInt(s.threshold),
    clipping_range: s.clippingRange,
    target_range: BigInt(s.targetRange),
    mod_range: BigInt(s.modRange),
    max_weight: s.maxWeight,
    sk1: s.sk1,
    pk1: s.pk1,
    sk2: s.sk2,
    pk2: s.pk2,
    rd_seed: s.rdSeed,
    "rd_seed_share_dict:K": rk,
    "rd_seed_share_dict:V": rv,
    "sk1_share_dict:K": sk,
    "sk1_share_dict:V": sv,
    "ss2_dict:K": ek,
    "ss2_dict:V": ev,
    "public_keys_dict:K": [...s.publicKeys.keys()],
    "public_keys_dict:V": [...s.publicKeys.values()].flat(),
  });
}

function loadState(rec: ConfigRecord | undefined): State {
  const s = freshState();
  if (rec === undefined || rec.size === 0) return s;
  const num = (k: string) => Number(rec.get(k) as bigint | number);
  const bytes = (k: string) => rec.get(k) as Uint8Array;
  const map = (k: string) => {
    const keys = (rec.get(`${k}:K`) ?? []) as bigint[];
    const values = (rec.get(`${k}:V`) ?? []) as Uint8Array[];
    return new Map(keys.map((key, i) => [key, values[i]!] as const));
  };
  s.stage = rec.get("current_stage") as SecAggPlusStageName;
  s.nid = rec.get("nid") as bigint;
  s.sampleNum = num("sample_num");
  s.shareNum = num("share_num");
  s.threshold = num("threshold");
  s.clippingRange = num("clipping_range");
  s.targetRange = num("target_range");
  s.modRange = num("mod_range");
  s.maxWeight = num("max_weight");
  s.sk1 = bytes("sk1");
  s.pk1 = bytes("pk1");
  s.sk2 = bytes("sk2");
  s.pk2 = bytes("pk2");
  s.rdSeed = bytes("rd_seed");
  s.rdSeedShares = map("rd_seed_share_dict");
  s.sk1Shares = map("sk1_share_dict");
  s.ss2 = map("ss2_dict");
  const pkKeys = (rec.get("public_keys_dict:K") ?? []) as bigint[];
  const pkValues = (rec.get("public_keys_dict:V") ?? []) as Uint8Array[];
  s.publicKeys = new Map(
    pkKeys.map((k, i) => [k, [pkValues[2 * i]!, pkValues[2 * i + 1]!]] as const),
  );
  return s;
}

function checkStage(
  current: SecAggPlusStageName,
  next: ConfigValue | undefined,
): SecAggPlusStageName {
  if (next === undefined) {
    throw new SecAggPlusError(`The required key '${Key.STAGE}' is missing from the ConfigRecord.`);
  }
  if (typeof next !== "string") {
    throw new SecAggPlusError(`The value for the key '${Key.STAGE}' must be a string.`);
  }
  if (next === Stage.SETUP) return Stage.SETUP;
  const i = SECAGGPLUS_STAGES.indexOf(current);
  const expected = SECAGGPLUS_STAGES[(i + 1) % SECAGGPLUS_STAGES.length];
  if (next !== expected) {
    throw new SecAggPlusError(
      `Abort secure aggregation: expect ${expected} stage, but receive ${next} stage`,
    );
  }
  return expected;
}

function intOf(configs: ConfigRecord, stage: string, key: string): number {
  const v = configs.get(key);
  if (typeof v !== "bigint") {
    throw new SecAggPlusError(`Stage ${stage}: the value for the key '${key}' must be an int.`);
  }
  if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new SecAggPlusError(`Stage ${stage}: '${key}' is out of range (${v}).`);
  }
  return Number(v);
}

function listOf<T>(
  configs: ConfigRecord,
  stage: string,
  key: string,
  check: (v: unknown) => v is T,
): T[] {
  const v = configs.get(key);
  if (!Array.isArray(v) || !v.every(check)) {
    throw new SecAggPlusError(
      `Stage ${stage}: the value for the key '${key}' must be a list of the right type.`,
    );
  }
  return v as T[];
}

const isBigint = (v: unknown): v is bigint => typeof v === "bigint";
const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;

function setup(s: State, configs: ConfigRecord): Record<string, ConfigValue> {
  const stage = Stage.SETUP;
  s.sampleNum = intOf(configs, stage, Key.SAMPLE_NUMBER);
  s.shareNum = intOf(configs, stage, Key.SHARE_NUMBER);
  s.threshold = intOf(configs, stage, Key.THRESHOLD);
  const clip = configs.get(Key.CLIPPING_RANGE);
  if (typeof clip !== "number" || !(clip > 0)) {
    throw new SecAggPlusError(`Stage ${stage}: '${Key.CLIPPING_RANGE}' must be a positive float.`);
  }
  s.clippingRange = clip;
  s.targetRange = intOf(configs, stage, Key.TARGET_RANGE);
  s.modRange = intOf(configs, stage, Key.MOD_RANGE);
  const mw = configs.get(Key.MAX_WEIGHT);
  if ((typeof mw !== "number" && typeof mw !== "bigint") || !(Number(mw) > 0)) {
    throw new SecAggPlusError(`Stage ${stage}: '${Key.MAX_WEIGHT}' must be a positive number.`);
  }
  s.maxWeight = Number(mw);
  if (
    s.modRange < 2 ||
    s.modRange > 2 ** 32 ||
    s.targetRange < 1 ||
    s.threshold < 1 ||
    s.shareNum < s.threshold
  ) {
    throw new SecAggPlusError(
      `Stage ${stage}: inconsistent parameters (mod_range ${s.modRange} must be in [2, 2^32], ` +
        `threshold ${s.threshold} ≤ share_num ${s.shareNum})`,
    );
  }
  s.rdSeedShares = new Map();
  s.sk1Shares = new Map();
  s.ss2 = new Map();
  const k1 = generateSecAggKeyPair();
  const k2 = generateSecAggKeyPair();
  s.sk1 = k1.privateKeyPem;
  s.pk1 = k1.publicKeyPem;
  s.sk2 = k2.privateKeyPem;
  s.pk2 = k2.publicKeyPem;
  return { [Key.PUBLIC_KEY_1]: s.pk1, [Key.PUBLIC_KEY_2]: s.pk2 };
}

function shareKeys(s: State, configs: ConfigRecord): Record<string, ConfigValue> {
  const keys = new Map<bigint, [Uint8Array, Uint8Array]>();
  for (const [name, v] of configs) {
    if (!Array.isArray(v) || v.length !== 2 || !isBytes(v[0]) || !isBytes(v[1])) {
      throw new SecAggPlusError(
        `Stage ${Stage.SHARE_KEYS}: the value for the key '${name}' must be a list of two bytes.`,
      );
    }
    if (!/^\d+$/.test(name)) {
      throw new SecAggPlusError(`Stage ${Stage.SHARE_KEYS}: '${name}' is not a node id.`);
    }
    keys.set(BigInt(name), [v[0], v[1]]);
  }
  s.publicKeys = keys;
  if (keys.size < s.threshold)
    throw new SecAggPlusError("Available neighbours number smaller than threshold");
  if (keys.size > s.shareNum) throw new SecAggPlusError("More neighbours than shares");
  const all = [...keys.values()].flat().map((b) => Buffer.from(b).toString("latin1"));
  if (new Set(all).size !== all.length) throw new SecAggPlusError("Some public keys are identical");
  const own = keys.get(s.nid);
  if (
    own === undefined ||
    !Buffer.from(own[0]).equals(s.pk1) ||
    !Buffer.from(own[1]).equals(s.pk2)
  ) {
    throw new SecAggPlusError(
      "Own public keys are displayed in dict incorrectly, should not happen!",
    );
  }
  s.rdSeed = new Uint8Array(randomBytes(32));
  const bShares = createShares(s.rdSeed, s.threshold, s.shareNum);
  const skShares = createShares(s.sk1, s.threshold, s.shareNum);
  const dsts: bigint[] = [];
  const ctxts: Uint8Array[] = [];
  let idx = 0;
  for (const [nid, [, pk2]] of keys) {
    if (nid === s.nid) {
      s.rdSeedShares.set(nid, bShares[idx]!);
      s.sk1Shares.set(nid, skShares[idx]!);
    } else {
      const key = deriveSharedKey(s.sk2, pk2);
      s.ss2.set(nid, key);
      const plaintext = concatSharePlaintext({
        src: s.nid,
        dst: nid,
        seedShare: bShares[idx]!,
        skShare: skShares[idx]!,
      });
      dsts.push(nid);
      ctxts.push(fernetEncrypt(key, plaintext));
    }
    idx++;
  }
  return { [Key.DESTINATION_LIST]: dsts, [Key.CIPHERTEXT_LIST]: ctxts };
}

function collectMaskedVectors(
  s: State,
  configs: ConfigRecord,
  reply: RecordDict,
): Record<string, ConfigValue> {
  const stage = Stage.COLLECT_MASKED_VECTORS;
  const ctxts = listOf(configs, stage, Key.CIPHERTEXT_LIST, isBytes);
  const srcs = listOf(configs, stage, Key.SOURCE_LIST, isBigint);
  if (ctxts.length !== srcs.length) {
    throw new SecAggPlusError(
      `Stage ${stage}: '${Key.CIPHERTEXT_LIST}' and '${Key.SOURCE_LIST}' differ in length.`,
    );
  }
  if (ctxts.length + 1 < s.threshold)
    throw new SecAggPlusError("Not enough available neighbour clients.");
  const available: bigint[] = [];
  srcs.forEach((src, i) => {
    const key = s.ss2.get(src);
    if (key === undefined)
      throw new SecAggPlusError(`Node ${s.nid}: no shared key with node ${src}.`);
    let p: ReturnType<typeof separateSharePlaintext>;
    try {
      p = separateSharePlaintext(fernetDecrypt(key, ctxts[i]!));
    } catch (e) {
      throw new SecAggPlusError(
        `Node ${s.nid}: cannot decrypt the shares from ${src}: ${(e as Error).message}`,
      );
    }
    if (p.src !== src)
      throw new SecAggPlusError(
        `Node ${s.nid}: received ciphertext from ${p.src} instead of ${src}.`,
      );
    if (p.dst !== s.nid)
      throw new SecAggPlusError(
        `Node ${s.nid}: received an encrypted message for Node ${p.dst} from Node ${src}.`,
      );
    available.push(src);
    s.rdSeedShares.set(src, p.seedShare);
    s.sk1Shares.set(src, p.skShare);
  });
  const fit = readLegacyFitRes(reply);
  const { npy } = maskUpdate({
    nodeId: s.nid,
    arrays: fit.parameters.map((a) => ({ values: arrayToFloat64(a), shape: a.shape })),
    numExamples: fit.numExamples,
    clippingRange: s.clippingRange,
    targetRange: s.targetRange,
    modRange: s.modRange,
    maxWeight: s.maxWeight,
    privateSeed: s.rdSeed,
    sk1: s.sk1,
    neighbours: available.map((nodeId) => {
      const pk = s.publicKeys.get(nodeId);
      if (pk === undefined)
        throw new SecAggPlusError(`Node ${s.nid}: no public key of node ${nodeId}.`);
      return { nodeId, pk1: pk[0] };
    }),
  });
  return { [Key.MASKED_PARAMETERS]: npy };
}

function unmask(s: State, configs: ConfigRecord): Record<string, ConfigValue> {
  const stage = Stage.UNMASK;
  const active = listOf(configs, stage, Key.ACTIVE_NODE_ID_LIST, isBigint);
  const dead = listOf(configs, stage, Key.DEAD_NODE_ID_LIST, isBigint);
  if (active.length < s.threshold)
    throw new SecAggPlusError("Available neighbours number smaller than threshold");
  const pick = (m: Map<bigint, Uint8Array>, nid: bigint) => {
    const v = m.get(nid);
    if (v === undefined) throw new SecAggPlusError(`Node ${s.nid}: holds no share of node ${nid}.`);
    return v;
  };
  return {
    [Key.NODE_ID_LIST]: [...active, ...dead],
    [Key.SHARE_LIST]: [
      ...active.map((n) => pick(s.rdSeedShares, n)),
      ...dead.map((n) => pick(s.sk1Shares, n)),
    ],
  };
}

/**
 * The SecAgg+ ClientApp mod (Flower's `secaggplus_mod`): `new ClientApp({ mods: [secAggPlusMod] })`.
 * @throws SecAggPlusError (as an error reply) for a message out of protocol order or with
 *   malformed configs, as Flower's mod raises.
 */
export async function secAggPlusMod(
  message: Message,
  context: Context,
  callNext: ClientAppCallable,
): Promise<Message> {
  if (message.metadata.messageType !== MessageType.TRAIN) return callNext(message, context);
  const state = loadState(context.state.configRecords.get(SECAGGPLUS_STATE_RECORD));
  const incoming = message.content.configRecords.get(SECAGGPLUS_CONFIGS_RECORD);
  if (incoming === undefined) {
    throw new SecAggPlusError(
      `the train message has no ConfigRecord '${SECAGGPLUS_CONFIGS_RECORD}'`,
    );
  }
  state.stage = checkStage(state.stage, incoming.get(Key.STAGE));
  const configs = new ConfigRecord();
  for (const [k, v] of incoming) if (k !== Key.STAGE) configs.set(k, v);

  let out = new RecordDict();
  let res: Record<string, ConfigValue>;
  switch (state.stage) {
    case Stage.SETUP:
      state.nid = message.metadata.dstNodeId;
      res = setup(state, configs);
      break;
    case Stage.SHARE_KEYS:
      res = shareKeys(state, configs);
      break;
    case Stage.COLLECT_MASKED_VECTORS: {
      const reply = await callNext(message, context);
      if (reply.hasError()) return reply;
      out = reply.content;
      res = collectMaskedVectors(state, configs, out);
      for (const rec of out.arrayRecords.values()) rec.clear();
      break;
    }
    default:
      res = unmask(state, configs);
  }
  context.state.set(SECAGGPLUS_STATE_RECORD, saveState(state));
  out.set(SECAGGPLUS_CONFIGS_RECORD, new ConfigRecord(res));
  return new Message(out, { replyTo: message });
}
