/**
 * A typed Fleet API client for the SuperNode: one method per rpc it uses, Flower's signed
 * authentication metadata (`flwr-public-key-bin`, `flwr-timestamp`, `flwr-signature-bin`) on
 * every call. No retries here; see `rpc-retry.ts`.
 *
 * Wire-independent: the calls go over gRPC (Flower ≤ 1.39, `grpc/client.ts`, Flower's channel
 * options) or Flower 1.40+'s protobuf over HTTP (`wire/http/http-client.ts`), chosen by
 * {@link FleetWireOptions}. Both get the same metadata: the HTTP client sends the `-bin` entries
 * base64 under Flower's HTTP names (`flwr-public-key`, `flwr-signature`), and the flwr-ts
 * extensions (presigned signatures, the `flwr-ts-pull-wait-ms` long poll, inline content) work the
 * same on both, answered by a flwr-ts SuperLink and ignored by Python's. Either client is wrapped
 * by `wire/wire-probe.ts`'s `withWireCheck`, so a SuperLink speaking the other wire (or the other
 * TLS mode) ends in a `WireMismatchError` or a TLS error instead of endless reconnection.
 */
import type { KeyObject } from "node:crypto";
import type { ObjectTree } from "@flwr-ts/core";
import {
  type Fab,
  FleetDefinition,
  type Message as ProtoMessage,
  type Run,
} from "@flwr-ts/core/proto";
import {
  PUBLIC_KEY_HEADER,
  RequestSigner,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
} from "@flwr-ts/crypto";
import { type ChannelCredentials, Metadata } from "@grpc/grpc-js";
import { flowerChannelOptions } from "../grpc/channel-options.js";
import { createClient, toGrpcMetadata } from "../grpc/client.js";
import { type MessageLimits, messageLimitOptions } from "../grpc/message-limits.js";
import { InlineHandshake, inlinedIds, markInlined } from "../inline/inline-content.js";
import { PULL_WAIT_HEADER } from "../protocol/flwr-ts-headers.js";
import { createHttpClient } from "../wire/http/http-client.js";
import type { CallOptions, MetadataProvider, ServiceClient } from "../wire/service-client.js";
import { withWireCheck } from "../wire/wire-probe.js";

/** A message pulled from the SuperLink: metadata (content is delivered as objects) and its tree. */
export interface PulledMessage {
  /** The message as sent (its content is an empty RecordDict; objects carry the payload). */
  readonly message: ProtoMessage;
  /** The message's object tree. */
  readonly tree: ObjectTree;
  /**
   * True when the SuperLink sent the content inline (flwr-ts extension, `inline-content.ts`):
   * the objects come from `message.content`, and no PullObject or confirmation is needed.
   */
  readonly inlined: boolean;
}

/** Result of a PullObject call. */
export interface PulledObject {
  /** False when the SuperLink never preregistered the id (permanent). */
  readonly found: boolean;
  /** False while the sender has not pushed it yet (retry later). */
  readonly available: boolean;
  /** The object's bytes when found and available. */
  readonly content: Uint8Array;
}

/** The Fleet API's wire: Flower's two. */
export type FleetWire = "grpc" | "http";

/**
 * How the Fleet API is reached: gRPC with channel credentials (the default), or Flower 1.40+'s
 * protobuf over HTTP (`https://`, or `http://` when `insecure`).
 */
export type FleetWireOptions =
  | {
      /** gRPC (Flower ≤ 1.39 SuperLinks, flwr-ts's Fleet port). */
      readonly wire?: "grpc" | undefined;
      /** TLS or insecure channel credentials. */
      readonly credentials: ChannelCredentials;
      /** Largest gRPC message received and sent (`grpc/message-limits.ts`); default Flower's. */
      readonly messageLimits?: MessageLimits | undefined;
    }
  | {
      /** Flower 1.40+'s protobuf over HTTP (`POST /v1/fleet/...`). */
      readonly wire: "http";
      /** Plain HTTP instead of HTTPS. */
      readonly insecure: boolean;
      /** CA certificate(s) for HTTPS: PEM bytes or a PEM file path; default the system's. */
      readonly rootCertificates?: Buffer | string | undefined;
    };

/** Options of {@link FleetConnection}. */
export type FleetConnectionOptions = FleetWireOptions & {
  /** SuperLink Fleet API address, `host:port` / `[v6]:port`. */
  readonly address: string;
  /** The SuperNode's EC private key; every call is signed with it. */
  readonly privateKey: KeyObject;
  /**
   * Largest message (object bytes) this node accepts inline from a flwr-ts SuperLink
   * (`inline/inline-content.ts`); 0 turns the extension off. Default: `FLWR_TS_INLINE_MAX_BYTES`
   * or 1 MiB.
   */
  readonly inlineMaxBytes?: number;
};

/** `host` and `port` of `host:port` / `[v6]:port`; undefined when it has no numeric port. */
function hostPort(address: string): { host: string; port: number } | undefined {
  const i = address.lastIndexOf(":");
  const port = Number(address.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
  return { host: address.slice(0, i).replace(/^\[(.*)\]$/, "$1"), port };
}

/** True when grpc-js channel credentials use TLS. */
function isSecure(credentials: ChannelCredentials): boolean {
  const probe = (credentials as unknown as { _isSecure?: () => boolean })._isSecure;
  return typeof probe === "function" ? probe.call(credentials) : true;
}

/**
 * Builds the gRPC metadata of one signed request; the signature is computed on libuv's thread
 * pool (about 2 ms for P-384), so the SuperNode keeps serving its ClientApps meanwhile.
 */
export async function signedMetadata(signer: RequestSigner): Promise<Metadata> {
  const auth = await signer.signAsync();
  const md = new Metadata();
  md.set(PUBLIC_KEY_HEADER, auth[PUBLIC_KEY_HEADER]);
  md.set(TIMESTAMP_HEADER, auth[TIMESTAMP_HEADER]);
  md.set(SIGNATURE_HEADER, auth[SIGNATURE_HEADER]);
  return md;
}

const node = (nodeId: bigint) => ({ nodeId });

/**
 * How long a signature made ahead of time may wait for its call (ms). Flower accepts timestamps up
 * to 300 s old; a stock older than this is replaced by a fresh signature.
 */
const PRESIGNED_MAX_AGE_MS = 2000;

/** Extra deadline beyond a long-poll wait, ms. */
const PULL_DEADLINE_MARGIN_MS = 15_000;

/**
 * The Fleet rpcs a SuperNode makes, each signed. Methods throw the wire's errors (grpc-js
 * `ServiceError`s or `RpcError`s, each with `code` and `details`) unchanged.
 */
export class FleetConnection {
  /** The SuperLink address. */
  readonly address: string;
  /** The wire the calls go over. */
  readonly wire: FleetWire;
  /** The SPKI PEM bytes of the node's public key (what ActivateNode and the metadata carry). */
  readonly publicKeyPem: Buffer;
  private readonly client: ServiceClient<typeof FleetDefinition>;
  private readonly inline: InlineHandshake;
  /** One signature made ahead of time, for the next call (see {@link nextSignature}). */
  private stock: { madeAt: number; metadata: Promise<Metadata> } | undefined;

  /** Creates the channel (connecting lazily on the first call). */
  constructor(options: FleetConnectionOptions) {
    const signer = new RequestSigner(options.privateKey);
    const inline = new InlineHandshake(options.inlineMaxBytes);
    this.inline = inline;
    this.address = options.address;
    this.publicKeyPem = signer.publicKeyBytes;
    const metadata: MetadataProvider = async () =>
      inline.announce(await this.nextSignature(signer));
    let client: ServiceClient<typeof FleetDefinition>;
    let tls: boolean;
    if (options.wire === "http") {
      tls = !options.insecure;
      client = createHttpClient(FleetDefinition, `${tls ? "https" : "http"}://${options.address}`, {
        metadata,
        onResponseMetadata: inline.learn,
        ...(tls && options.rootCertificates !== undefined
          ? { rootCertificates: options.rootCertificates }
          : {}),
      });
      this.wire = "http";
    } else {
      tls = isSecure(options.credentials);
      client = createClient(FleetDefinition, options.address, options.credentials, {
        channelOptions: { ...flowerChannelOptions, ...messageLimitOptions(options.messageLimits) },
        metadata,
        onResponseMetadata: inline.learn,
      });
      this.wire = "grpc";
    }
    const target = hostPort(options.address);
    this.client = target
      ? withWireCheck(client, { wire: this.wire, tls, ...target, label: options.address })
      : client;
  }

  /**
   * The signed metadata for a call: the stocked signature when it is fresh (made at most
   * {@link PRESIGNED_MAX_AGE_MS} ago, so it was computed while the node waited, e.g. for its
   * ClientApp, instead of on the call's path), else a new one; then stocks one for the next call.
   * Every signature, stocked or not, has its own timestamp and is sent at most once.
   */
  private nextSignature(signer: RequestSigner): Promise<Metadata> {
    const now = performance.now();
    const stocked = this.stock;
    const metadata =
      stocked && now - stocked.madeAt <= PRESIGNED_MAX_AGE_MS
        ? stocked.metadata
        : signedMetadata(signer);
    const next = signedMetadata(signer);
    next.catch(() => {}); // a failure surfaces when (if) it is used
    this.stock = { madeAt: now, metadata: next };
    return metadata;
  }

  /**
   * The largest message the SuperLink accepts inline (0: it did not say so — a Python SuperLink —
   * or inlining is off); learnt from its answers.
   */
  get serverInlineMax(): number {
    return this.inline.serverMaxBytes;
  }

  /** Self-registers the node's key (only when the SuperLink does not enforce CLI registration). */
  async registerNode(options?: CallOptions): Promise<bigint> {
    const res = await this.client.registerNode({ publicKey: this.publicKeyPem }, options);
    return res.nodeId;
  }

  /** Marks the node online; returns its node id. */
  async activateNode(heartbeatInterval: number, options?: CallOptions): Promise<bigint> {
    const res = await this.client.activateNode(
      { publicKey: this.publicKeyPem, heartbeatInterval },
      options,
    );
    return res.nodeId;
  }

  /** Marks the node offline. */
  async deactivateNode(nodeId: bigint, options?: CallOptions): Promise<void> {
    await this.client.deactivateNode({ nodeId }, options);
  }

  /** Removes a self-registered node. */
  async unregisterNode(nodeId: bigint, options?: CallOptions): Promise<void> {
    await this.client.unregisterNode({ nodeId }, options);
  }

  /** Sends one heartbeat; returns the SuperLink's `success`. */
  async sendHeartbeat(
    nodeId: bigint,
    heartbeatInterval: number,
    options?: CallOptions,
  ): Promise<boolean> {
    const res = await this.client.sendNodeHeartbeat(
      { node: node(nodeId), heartbeatInterval },
      options,
    );
    return res.success;
  }

  /**
   * Pulls at most one message; undefined when none is waiting.
   * @param options - call options; `waitMs` asks the SuperLink to hold the call open up to this long until a message
   *   arrives (flwr-ts SuperLink's opt-in long poll, metadata `flwr-ts-pull-wait-ms`; SuperLinks
   *   that do not know it, like Python's, answer at once). The call deadline is extended to match.
   */
  async pullMessage(
    nodeId: bigint,
    options: CallOptions & { waitMs?: number } = {},
  ): Promise<PulledMessage | undefined> {
    const { waitMs, ...call } = options;
    if (waitMs !== undefined && waitMs > 0) {
      const md = new Metadata();
      md.set(PULL_WAIT_HEADER, String(Math.floor(waitMs)));
      if (call.metadata) md.merge(toGrpcMetadata(call.metadata));
      call.metadata = md;
      call.timeoutMs ??= waitMs + PULL_DEADLINE_MARGIN_MS;
    }
    let inlined = new Set<string>();
    const res = await this.client.pullMessages(
      { node: node(nodeId), messageIds: [] },
      {
        ...call,
        onResponseMetadata: (md) => {
          inlined = inlinedIds(md);
        },
      },
    );
    const message = res.messagesList[0];
    const tree = res.messageObjectTrees[0];
    if (!message || !tree) return undefined;
    return { message, tree, inlined: inlined.has(tree.objectId) };
  }

  /**
   * Pushes one reply (content removed, or inline when `inlined`: see {@link serverInlineMax})
   * with its object tree.
   * @returns the object ids the SuperLink still needs (push them with {@link pushObject}), the
   *   per-message results map, and the push session (Flower 1.42; empty before) the objects
   *   belong to.
   */
  async pushMessage(
    nodeId: bigint,
    message: ProtoMessage,
    tree: ObjectTree,
    clientappRuntime: number,
    options: CallOptions & { inlined?: boolean } = {},
  ): Promise<{ objectsToPush: string[]; results: Map<string, number>; sessionId: string }> {
    const { inlined, ...call } = options;
    if (inlined) call.metadata = markInlined(call.metadata ?? new Metadata(), [tree.objectId]);
    const res = await this.client.pushMessages(
      {
        node: node(nodeId),
        messagesList: [message],
        messageObjectTrees: [tree],
        clientappRuntimeList: [clientappRuntime],
      },
      call,
    );
    return { objectsToPush: res.objectsToPush, results: res.results, sessionId: res.sessionId };
  }

  /** Pulls one object of a run. */
  async pullObject(
    nodeId: bigint,
    runId: bigint,
    objectId: string,
    options?: CallOptions,
  ): Promise<PulledObject> {
    const res = await this.client.pullObject({ node: node(nodeId), runId, objectId }, options);
    return {
      found: res.objectFound,
      available: res.objectAvailable,
      content: res.objectContent,
    };
  }

  /**
   * Pushes one object of a run; returns the SuperLink's `stored`.
   * @param options.sessionId - the push session {@link pushMessage} returned (Flower 1.42 stores
   *   only objects pending in it; empty lets it find the session).
   */
  async pushObject(
    nodeId: bigint,
    runId: bigint,
    objectId: string,
    content: Uint8Array,
    options: CallOptions & { sessionId?: string } = {},
  ): Promise<boolean> {
    const { sessionId = "", ...call } = options;
    const res = await this.client.pushObject(
      { node: node(nodeId), runId, objectId, objectContent: Buffer.from(content), sessionId },
      call,
    );
    return res.stored;
  }

  /** Tells the SuperLink a message and its objects arrived (it may delete them). */
  async confirmMessageReceived(
    nodeId: bigint,
    runId: bigint,
    messageObjectId: string,
    options?: CallOptions,
  ): Promise<void> {
    await this.client.confirmMessageReceived(
      { node: node(nodeId), runId, messageObjectId },
      options,
    );
  }

  /** The run's details (for running ClientApps). */
  async getRun(nodeId: bigint, runId: bigint, options?: CallOptions): Promise<Run | undefined> {
    const res = await this.client.getRun({ node: node(nodeId), runId }, options);
    return res.run;
  }

  /** The run's FAB (for running ClientApps). */
  async getFab(
    nodeId: bigint,
    runId: bigint,
    hashStr: string,
    options?: CallOptions,
  ): Promise<Fab | undefined> {
    const res = await this.client.getFab({ node: node(nodeId), runId, hashStr }, options);
    return res.fab;
  }

  /** Closes the channel (gRPC) or the connection pool (HTTP). */
  close(): void {
    this.client.close();
  }
}
