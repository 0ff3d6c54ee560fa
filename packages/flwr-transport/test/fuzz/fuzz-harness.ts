/**
 * The wire fuzz's servers and calls (issue #12): an in-memory SuperLink on 127.0.0.1 with TLS on
 * Fleet, Control and HTTP (Fleet and Control) and a plaintext ServerAppIo, a ClientAppIo server
 * (`--isolation process`, no SuperExec), a registered SuperNode key and a run with an app token;
 * raw calls with arbitrary bytes and metadata to every rpc on gRPC and every route on HTTP, each
 * classified as answered (status, latency) or as a violation of the fuzz's rules. Used by
 * `wire-fuzz.test.ts` (bounded, seeded) and `bench/fuzz.ts` (long runs).
 */

import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { Agent, request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ClientAppIoDefinition,
  ControlDefinition,
  FleetDefinition,
  ServerAppIoDefinition,
} from "@flwr-ts/core/proto";
import { generateCertificates, RequestSigner } from "@flwr-ts/crypto";
import { type ChannelCredentials, Client, credentials, Metadata, status } from "@grpc/grpc-js";
import {
  type ClientAppIoRuntime,
  startClientAppIo,
} from "../../src/clientappio/clientappio-runtime.js";
import { channelCredentials } from "../../src/grpc/tls.js";
import { MemoryObjectStore } from "../../src/object-store/memory-object-store.js";
import { createControlRunHandlers } from "../../src/superlink/control/control-runs.js";
import { inspectFab } from "../../src/superlink/control/control-runs-fab.js";
import { NOOP_ACCOUNT_NAME, NOOP_FLWR_AID, RunType } from "../../src/superlink/state/link-state.js";
import { MemoryLinkState } from "../../src/superlink/state/memory-link-state.js";
import { SuperLink } from "../../src/superlink/superlink.js";
import { httpPathOf } from "../../src/wire/http/routes.js";
import type { GenericMethod, GenericService } from "../../src/wire/service-definition.js";
import { decodeRequest, InvalidUtf8Error } from "../../src/wire/strict-decode.js";
import type { FuzzContext, FuzzInput } from "./fuzz-inputs.js";

/** One rpc of one server. */
export interface FuzzTarget {
  /** `Fleet`, `Control`, `ServerAppIo`, `ClientAppIo`, or `HTTP`. */
  api: string;
  /** `/flwr.proto.Fleet/PullMessages` or `POST /v1/fleet/pull-messages`. */
  name: string;
  /** The rpc. */
  method: GenericMethod;
  /** Sends one input. */
  call(input: FuzzInput): Promise<FuzzAnswer>;
}

/** How one call ended. */
export interface FuzzAnswer {
  /** gRPC status name (`OK`, `INTERNAL`, …), or the HTTP status as text. */
  status: string;
  /** Milliseconds from send to answer (first message or status). */
  ms: number;
  /** A rule broken by this answer, if any. */
  violation?: string;
}

/** The running servers. */
export interface FuzzServers {
  /** Every rpc of Fleet, Control, ServerAppIo, ClientAppIo (gRPC) and every HTTP route. */
  targets: FuzzTarget[];
  /** Node, run and token the inputs may name. */
  context: FuzzContext;
  /** Port of the SuperLink's Prometheus endpoint (every fuzzed SuperLink call is counted there). */
  metricsPort: number;
  /** Stops everything. */
  stop(): Promise<void>;
}

/** Longest accepted time to an answer (the "within 1 s"). */
export const ANSWER_WITHIN_MS = 1000;

const identity = (b: Buffer) => b;

/** True when `body` does not deserialize as `method`'s request (INTERNAL is allowed then). */
function undecodable(method: GenericMethod, body: Buffer): boolean {
  try {
    decodeRequest(method.requestType, body);
    return false;
  } catch (error) {
    return !(error instanceof InvalidUtf8Error);
  }
}

function grpcMetadata(input: FuzzInput): Metadata {
  const md = new Metadata();
  for (const [k, v] of input.metadata) md.add(k, v);
  return md;
}

function judgeGrpc(
  method: GenericMethod,
  input: FuzzInput,
  code: number,
  ms: number,
  details = "",
): FuzzAnswer {
  const name = status[code] ?? String(code);
  const answer: FuzzAnswer = { status: name, ms };
  if (code === status.UNKNOWN) answer.violation = "UNKNOWN status";
  else if (code === status.INTERNAL && !undecodable(method, input.body))
    answer.violation = `INTERNAL for a body that deserializes (${details})`;
  else if (code === status.DEADLINE_EXCEEDED || ms > ANSWER_WITHIN_MS)
    answer.violation = `no answer within ${ANSWER_WITHIN_MS} ms (${ms.toFixed(0)} ms)`;
  return answer;
}

/** Targets for every rpc of `service` at `address`, one shared channel; `close` ends it. */
export function grpcTargets(
  api: string,
  service: GenericService,
  address: string,
  creds: ChannelCredentials,
): { targets: FuzzTarget[]; close: () => void } {
  const client = new Client(address, creds, { "grpc.ssl_target_name_override": "localhost" });
  const targets = Object.values(service.methods).map((m) => {
    const method = m as GenericMethod;
    const path = `/${service.fullName}/${method.name}`;
    const call = (input: FuzzInput) =>
      new Promise<FuzzAnswer>((resolve) => {
        const t0 = performance.now();
        // Generous client deadline: a slower answer is reported, not cut.
        const options = { deadline: Date.now() + 10_000 };
        if (method.responseStream) {
          const stream = client.makeServerStreamRequest(
            path,
            identity,
            identity,
            input.body,
            grpcMetadata(input),
            options,
          );
          let done = false;
          const finish = (code: number, details = "") => {
            if (done) return;
            done = true;
            stream.cancel();
            resolve(judgeGrpc(method, input, code, performance.now() - t0, details));
          };
          stream.on("data", () => finish(status.OK));
          stream.on("error", (e: { code: number; details: string }) => finish(e.code, e.details));
          stream.on("status", (s: { code: number }) => finish(s.code));
          // A valid stream may stay open with nothing to say (StreamLogs of a live run): its
          // response headers are the answer then.
          stream.on("metadata", () => setTimeout(() => finish(status.OK), 50));
        } else {
          client.makeUnaryRequest(
            path,
            identity,
            identity,
            input.body,
            grpcMetadata(input),
            options,
            (error) =>
              resolve(
                judgeGrpc(
                  method,
                  input,
                  error ? error.code : status.OK,
                  performance.now() - t0,
                  error?.details,
                ),
              ),
          );
        }
      });
    return { api, name: path, method, call };
  });
  return { targets, close: () => client.close() };
}

function httpTargets(service: GenericService, port: number, agent: Agent): FuzzTarget[] {
  return Object.values(service.methods).map((m) => {
    const method = m as GenericMethod;
    const path = httpPathOf(service, method);
    const call = (input: FuzzInput) =>
      new Promise<FuzzAnswer>((resolve) => {
        const t0 = performance.now();
        const headers: Record<string, string> = { "content-type": "application/protobuf" };
        for (const [k, v] of input.metadata)
          if (typeof v === "string") headers[k] = v;
          else if (k === "flwr-public-key-bin" || k === "flwr-signature-bin")
            headers[k.slice(0, -4)] = v.toString("base64");
        const req = httpsRequest(
          {
            host: "127.0.0.1",
            port,
            path,
            method: "POST",
            agent,
            headers,
          },
          (res) => {
            const code = res.statusCode ?? 0;
            const ms = performance.now() - t0;
            res.destroy();
            const answer: FuzzAnswer = { status: `HTTP ${code}`, ms };
            // 500 is a handler crash; 501 (UNIMPLEMENTED) and 503 (UNAVAILABLE) are answers.
            if (code === 500) answer.violation = `HTTP ${code}`;
            else if (ms > ANSWER_WITHIN_MS)
              answer.violation = `no answer within ${ANSWER_WITHIN_MS} ms (${ms.toFixed(0)} ms)`;
            resolve(answer);
          },
        );
        req.setTimeout(10_000, () => req.destroy(new Error("timeout")));
        req.on("error", (e) =>
          resolve({ status: "HTTP error", ms: performance.now() - t0, violation: e.message }),
        );
        req.end(input.body);
      });
    return { api: "HTTP", name: `POST ${path}`, method, call };
  });
}

/** Plaintext channel credentials (for servers outside this process, e.g. Python's). */
export function insecureCredentials(): ChannelCredentials {
  return credentials.createInsecure();
}

/** Open descriptors of this process (Linux). */
export function openDescriptors(): number {
  return readdirSync("/proc/self/fd").length;
}

/** Starts the SuperLink and the ClientAppIo server and lists every target. */
export async function startFuzzServers(): Promise<FuzzServers> {
  const dir = mkdtempSync(join(tmpdir(), "flwr-fuzz-"));
  const certs = await generateCertificates({ outDir: dir, keyType: "ec-p384" });
  const ca = readFileSync(certs.paths.caCert);
  const state = new MemoryLinkState();
  const store = new MemoryObjectStore();
  const superlink = new SuperLink({
    state,
    store,
    controlRunHandlers: createControlRunHandlers({ state, store, inspectFab }),
    fleetAddress: "127.0.0.1:0",
    controlAddress: "127.0.0.1:0",
    serverAppIoAddress: "127.0.0.1:0",
    httpAddress: "127.0.0.1:0",
    // Every fuzzed call also runs through the metrics observer (and the endpoint stays up).
    metricsAddress: "127.0.0.1:0",
    tls: {
      caCertFile: certs.paths.caCert,
      certFile: certs.paths.serverCert,
      keyFile: certs.paths.serverKey,
    },
    enableSupernodeAuth: true,
  });
  const ports = await superlink.start();
  const clientAppIo: ClientAppIoRuntime = await startClientAppIo({
    address: "127.0.0.1:0",
    isolation: "process",
  });
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "secp384r1" });
  const signer = new RequestSigner(privateKey);
  const nodeId = state.createNode(NOOP_FLWR_AID, NOOP_ACCOUNT_NAME, signer.publicKeyBytes, 30);
  state.activateNode(nodeId, 30);
  const runId = state.createRun({
    fabId: "",
    fabVersion: "",
    fabHash: "",
    overrideConfig: new Map(),
    federation: "default",
    flwrAid: NOOP_FLWR_AID,
    runType: RunType.SERVER_APP,
  });
  const token = state.createToken(runId) ?? "";
  const context: FuzzContext = {
    nodeId,
    runId,
    token,
    signedMetadata: () => {
      const auth = signer.sign();
      return Object.entries(auth).map(([k, v]) => [k, typeof v === "string" ? v : Buffer.from(v)]);
    },
  };
  const tls = channelCredentials({ insecure: false, rootCertificatesFile: certs.paths.caCert });
  const plain = credentials.createInsecure();
  const groups = [
    grpcTargets("Fleet", FleetDefinition, `127.0.0.1:${ports.fleetPort}`, tls),
    grpcTargets("Control", ControlDefinition, `127.0.0.1:${ports.controlPort}`, tls),
    grpcTargets("ServerAppIo", ServerAppIoDefinition, `127.0.0.1:${ports.serverAppIoPort}`, plain),
    grpcTargets("ClientAppIo", ClientAppIoDefinition, `127.0.0.1:${clientAppIo.port}`, plain),
  ];
  const agent = new Agent({ keepAlive: true, maxSockets: 4, ca, servername: "localhost" });
  const targets = [
    ...groups.flatMap((g) => g.targets),
    ...httpTargets(FleetDefinition, ports.httpPort, agent),
    ...httpTargets(ControlDefinition, ports.httpPort, agent),
  ];
  return {
    targets,
    context,
    metricsPort: ports.metricsPort,
    async stop() {
      for (const g of groups) g.close();
      agent.destroy();
      await clientAppIo.close();
      await superlink.stop(100);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
