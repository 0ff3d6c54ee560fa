/**
 * Helpers for tests that talk to a real SuperLink over gRPC on 127.0.0.1: TLS material in a
 * temporary directory, SuperNode keys, signed Fleet clients and Control clients.
 */
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
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
import { createClient, type ServiceClient } from "../../grpc/client.js";
import { channelCredentials } from "../../grpc/tls.js";
import { MemoryObjectStore } from "../../object-store/memory-object-store.js";
import { type Logger, silentLogger } from "../logger.js";
import { MemoryLinkState } from "../state/memory-link-state.js";
import { SuperLink } from "../superlink.js";

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
  /** Stops the SuperLink, closes clients and removes the directory. */
  stop(): Promise<void>;
}

/** Starts an in-memory SuperLink on free ports of 127.0.0.1. */
export async function startTestSuperLink(
  options: { tls?: boolean; enableSupernodeAuth?: boolean; log?: Logger } = {},
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
  const superlink = new SuperLink({
    state: new MemoryLinkState(),
    store: new MemoryObjectStore(),
    fleetAddress: "127.0.0.1:0",
    controlAddress: "127.0.0.1:0",
    tls: files,
    enableSupernodeAuth: options.enableSupernodeAuth ?? tls,
    log: options.log ?? silentLogger,
  });
  const { fleetPort, controlPort } = await superlink.start();
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
    async stop() {
      for (const c of clients) c.close();
      await superlink.stop(100);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
