/**
 * Helpers for tests that talk to a real SuperLink over gRPC on 127.0.0.1: TLS material in a
 * temporary directory, SuperNode keys, signed Fleet clients and Control clients.
 */
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ControlDefinition, FleetDefinition } from "@flwr-ts/core/proto";
import {
  generateCertificates,
  PUBLIC_KEY_HEADER,
  RequestSigner,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
} from "@flwr-ts/crypto";
import { type ChannelCredentials, Metadata } from "@grpc/grpc-js";
import { createClient, type ServiceClient } from "../src/grpc/client.js";
import { channelCredentials } from "../src/grpc/tls.js";
import { MemoryObjectStore } from "../src/object-store/memory-object-store.js";
import { createControlRunHandlers } from "../src/superlink/control/control-runs.js";
import { inspectFab } from "../src/superlink/control/control-runs-fab.js";
import { type Logger, silentLogger } from "../src/superlink/logger.js";
import { MemoryLinkState } from "../src/superlink/state/memory-link-state.js";
import { SuperLink } from "../src/superlink/superlink.js";

/** A SuperNode identity for tests. */
export interface TestNodeKey {
  /** The private key. */
  privateKey: KeyObject;
  /** Signs requests. */
  signer: RequestSigner;
  /** SPKI PEM bytes (what the SuperLink stores). */
  publicKeyPem: Buffer;
}

/** A fresh P-384 SuperNode key. */
export function newNodeKey(): TestNodeKey {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "secp384r1" });
  const signer = new RequestSigner(privateKey);
  return { privateKey, signer, publicKeyPem: signer.publicKeyBytes };
}

/** Flower's three auth metadata entries from `signer`, fresh per call. */
export function signedMetadata(signer: RequestSigner): Metadata {
  const auth = signer.sign();
  const md = new Metadata();
  md.set(PUBLIC_KEY_HEADER, auth[PUBLIC_KEY_HEADER]);
  md.set(TIMESTAMP_HEADER, auth[TIMESTAMP_HEADER]);
  md.set(SIGNATURE_HEADER, auth[SIGNATURE_HEADER]);
  return md;
}

/** The answer of {@link TestSuperLink.httpPost}. */
export interface HttpAnswer {
  /** HTTP status. */
  status: number;
  /** Content type of the answer. */
  contentType: string;
  /** The body. */
  body: Buffer;
  /** The body parsed as JSON when it is JSON. */
  json: unknown;
}

/**
 * Flower 1.40+'s HTTP auth headers from `signer` (base64 of the same bytes as gRPC's `-bin`
 * metadata), fresh per call.
 */
export function signedHttpHeaders(signer: RequestSigner): Record<string, string> {
  const auth = signer.sign();
  return {
    "flwr-public-key": Buffer.from(auth[PUBLIC_KEY_HEADER]).toString("base64"),
    [TIMESTAMP_HEADER]: auth[TIMESTAMP_HEADER],
    "flwr-signature": Buffer.from(auth[SIGNATURE_HEADER]).toString("base64"),
  };
}

/** A running SuperLink for a test file. */
export interface TestSuperLink {
  /** The SuperLink (state and store reachable through it). */
  superlink: SuperLink;
  /** Temporary directory (certificates). */
  dir: string;
  /** Path of the CA certificate (when TLS is on). */
  caCertPath: string | undefined;
  /** Channel credentials clients must use. */
  credentials: () => ChannelCredentials;
  /** A Fleet client signing every call with `key` (or unsigned when undefined). */
  fleet(key?: TestNodeKey): ServiceClient<typeof FleetDefinition>;
  /** A Control client. */
  control(): ServiceClient<typeof ControlDefinition>;
  /** The port of the HTTP API (Flower 1.40+'s Fleet and Control over HTTP). */
  httpPort: number;
  /**
   * One raw POST to the HTTP API (HTTPS trusting the test CA when TLS is on): `path` like
   * `/v1/fleet/send-node-heartbeat`, a protobuf body, headers as given.
   */
  httpPost(path: string, body: Uint8Array, headers?: Record<string, string>): Promise<HttpAnswer>;
  /** Stops the SuperLink, closes clients and removes the directory. */
  stop(): Promise<void>;
}

/** Starts an in-memory SuperLink on free ports of 127.0.0.1. */
export async function startTestSuperLink(
  options: {
    tls?: boolean;
    enableSupernodeAuth?: boolean;
    log?: Logger;
    /** Serve Control's run rpcs (StartRun, ListRuns, …; no SuperExec runs them). */
    runs?: boolean;
  } = {},
): Promise<TestSuperLink> {
  const dir = mkdtempSync(join(tmpdir(), "flwr-superlink-test-"));
  const tls = options.tls ?? true;
  let caCertPath: string | undefined;
  let files: { caCertFile: string; certFile: string; keyFile: string } | undefined;
  if (tls) {
    const certs = await generateCertificates({ outDir: dir, keyType: "ec-p384" });
    caCertPath = certs.paths.caCert;
    files = {
      caCertFile: certs.paths.caCert,
      certFile: certs.paths.serverCert,
      keyFile: certs.paths.serverKey,
    };
  }
  const state = new MemoryLinkState();
  const store = new MemoryObjectStore();
  const superlink = new SuperLink({
    state,
    store,
    ...(options.runs
      ? { controlRunHandlers: createControlRunHandlers({ state, store, inspectFab }) }
      : {}),
    fleetAddress: "127.0.0.1:0",
    controlAddress: "127.0.0.1:0",
    httpAddress: "127.0.0.1:0",
    tls: files,
    enableSupernodeAuth: options.enableSupernodeAuth ?? tls,
    log: options.log ?? silentLogger,
  });
  const { fleetPort, controlPort, httpPort } = await superlink.start();
  const clients: { close(): void }[] = [];
  const credentials = () =>
    channelCredentials(
      tls ? { insecure: false, rootCertificatesFile: caCertPath } : { insecure: true },
    );
  return {
    superlink,
    dir,
    caCertPath,
    credentials,
    fleet(key) {
      const client = createClient(FleetDefinition, `127.0.0.1:${fleetPort}`, credentials(), {
        ...(key ? { metadata: () => signedMetadata(key.signer) } : {}),
        channelOptions: { "grpc.ssl_target_name_override": "localhost" },
      });
      clients.push(client);
      return client;
    },
    control() {
      const client = createClient(ControlDefinition, `127.0.0.1:${controlPort}`, credentials(), {
        channelOptions: { "grpc.ssl_target_name_override": "localhost" },
      });
      clients.push(client);
      return client;
    },
    httpPort,
    httpPost(path, body, headers = {}) {
      return new Promise((resolve, reject) => {
        const req = (tls ? httpsRequest : httpRequest)(
          {
            host: "127.0.0.1",
            port: httpPort,
            path,
            method: "POST",
            servername: "localhost",
            ...(caCertPath ? { ca: readFileSync(caCertPath) } : {}),
            headers: { "content-type": "application/protobuf", ...headers },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("error", reject);
            res.on("end", () => {
              const bodyBytes = Buffer.concat(chunks);
              const contentType = String(res.headers["content-type"] ?? "");
              let json: unknown;
              if (contentType === "application/json") json = JSON.parse(bodyBytes.toString("utf8"));
              resolve({ status: res.statusCode ?? 0, contentType, body: bodyBytes, json });
            });
          },
        );
        req.on("error", reject);
        req.end(body);
      });
    },
    async stop() {
      for (const c of clients) c.close();
      await superlink.stop(100);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
