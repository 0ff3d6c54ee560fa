/**
 * The `flwr-clientapp` process (Python's `flwr.supernode.runtime.run_clientapp`): with the token
 * from the SuperExec it pulls its inputs (context, run, FAB) and one instruction, installs the FAB
 * and loads the ClientApp component, runs `handle(message, context)` (errors become Flower's error
 * replies), pushes the reply and its objects, then the updated context.
 *
 * Warm reuse (flwr-ts, opt-in with `idleMs > 0`): after a message the process asks its SuperNode
 * for the next message of the same run (ListAppsToLaunch with the run header, held open up to
 * `idleMs`) and, when one comes, takes a new token and handles it with the app already loaded —
 * saving the process start and the TypeScript load per message. Each message still gets its own
 * token and its inputs (context, run) fresh from the SuperNode, as in Flower; only module-level
 * state of the app survives between messages. Without work for `idleMs` the process exits.
 */
import {
  ClientApp,
  contextFromProto,
  contextToProto,
  ErrorCode,
  Message,
  MessageError,
} from "@flwr-ts/core";
import { ClientAppIoDefinition } from "@flwr-ts/core/proto";
import { credentials, Metadata } from "@grpc/grpc-js";
import { RUN_HEADER, WARM_TOKEN_HEADER } from "../clientappio/clientappio-servicer.js";
import { trace, traceNow, traceSpan } from "../diagnostics/trace.js";
import { flowerChannelOptions } from "../grpc/channel-options.js";
import { createClient } from "../grpc/client.js";
import { InlineHandshake, inlinedIds, markInlined } from "../inline/inline-content.js";
import { PULL_WAIT_HEADER as WAIT_HEADER } from "../protocol/flwr-ts-headers.js";
import { APP_TOKEN_HEADER } from "../serverappio/app-token-middleware.js";
import { ObjectCache } from "../supernode/object-cache.js";
import type { RequestMetadata } from "../wire/metadata.js";
import { AppLoadError, loadComponent, registerAppLoader } from "./app-loader.js";
import { appLog } from "./app-log.js";
import { expectedAppIoEnd, withAppIoRetry } from "./appio-errors.js";
import { installFab } from "./fab-install.js";
import { AppHeartbeatThread } from "./heartbeat-thread.js";
import { appsRoot, fuseRunConfig, readInstalledAppConfig } from "./installed-app.js";
import {
  type OutgoingMessage,
  prepareOutgoingBatch,
  pushWantedObjects,
  receiveMessage,
} from "./object-transfer.js";

/** Bytes of received objects a warm ClientApp process keeps to skip pulling them again. */
const CLIENTAPP_OBJECT_CACHE_BYTES = 64 * 1024 * 1024;

/** Options of {@link runClientApp}. */
export interface RunClientAppOptions {
  /** ClientAppIo address. */
  readonly address: string;
  /** First token from the SuperExec. */
  readonly token: string;
  /** Warm reuse: how long to wait for the run's next message (ms); 0 handles one message. */
  readonly idleMs?: number;
  /** Heartbeat period (ms, default 10 s). */
  readonly heartbeatIntervalMs?: number;
}

/** A ClientApp loaded from a FAB, or why it could not be (also used by the Runtime API path). */
export interface LoadedApp {
  readonly hash: string;
  readonly app: ClientApp | AppLoadError;
  readonly config: ReturnType<typeof readInstalledAppConfig> | undefined;
}

/** Handles messages until no more come; resolves with the exit status. */
export async function runClientApp(options: RunClientAppOptions): Promise<number> {
  let token = options.token;
  const inline = new InlineHandshake();
  const client = createClient(
    ClientAppIoDefinition,
    options.address,
    credentials.createInsecure(),
    {
      channelOptions: flowerChannelOptions,
      metadata: () => {
        const md = new Metadata();
        md.set(APP_TOKEN_HEADER, token);
        return inline.announce(md);
      },
      onResponseMetadata: inline.learn,
    },
  );
  // Heartbeats from a thread of their own: a ClientApp that blocks the event loop (synchronous
  // training) keeps its token.
  const heartbeats = new AppHeartbeatThread({
    service: "clientappio",
    address: options.address,
    intervalMs: options.heartbeatIntervalMs ?? 10_000,
    fallback: async (t) => (await client.sendAppHeartbeat({ token: t })).success,
  });
  let loaded: LoadedApp | undefined;
  /** Objects of earlier messages (warm reuse: FedAvg sends the same arrays twice per round). */
  const cache = new ObjectCache(CLIENTAPP_OBJECT_CACHE_BYTES);
  /** The run of the token when this process asked for it (warm reuse), else unknown. */
  let warmRunId: bigint | undefined;
  try {
    for (;;) {
      const current = token;
      // The token is fresh (valid 30 s): the first heartbeat can wait for the interval (10 s).
      const heartbeat = heartbeats.beat(current, false);
      let runId: bigint;
      try {
        trace("ca.start", {});
        // A warm process knows its run: inputs and message are fetched together.
        const known = warmRunId;
        let inlined = new Set<string>();
        const onPulled = {
          onResponseMetadata: (md: RequestMetadata) => (inlined = inlinedIds(md)),
        };
        const [inputs, early] = await Promise.all([
          withAppIoRetry(() => client.pullAppInputs({ token: current })),
          known === undefined
            ? undefined
            : withAppIoRetry(() =>
                client.pullMessage({ token: current, messageIds: [], runId: known }, onPulled),
              ),
        ]);
        if (!inputs.run || !inputs.context)
          throw new Error("PullAppInputs returned no run or context");
        runId = inputs.run.runId;
        const nodeId = inputs.context.nodeId;
        const pulled =
          early && runId === known
            ? early
            : await withAppIoRetry(() =>
                client.pullMessage({ token: current, messageIds: [], runId }, onPulled),
              );
        const tree = pulled.messageObjectTrees[0];
        const proto = pulled.messagesList[0];
        if (!tree || !proto) throw new Error("PullMessage returned no message");
        const node = { nodeId };
        const wasInlined = inlined.has(tree.objectId);
        const message = await receiveMessage(
          proto,
          tree,
          wasInlined,
          async (objectId) => {
            const r = await withAppIoRetry(() => client.pullObject({ node, runId, objectId }));
            return { found: r.objectFound, available: r.objectAvailable, content: r.objectContent };
          },
          // Confirmed after the reply is pushed: the node keeps the instruction's objects
          // meanwhile, so reply objects shared with it (unchanged arrays) need no push.
          async () => {},
          undefined,
          cache,
        );
        const confirm = () =>
          withAppIoRetry(() =>
            client.confirmMessageReceived({ node, runId, messageObjectId: tree.objectId }),
          );
        const context = contextFromProto(inputs.context);
        const fab = inputs.fab;
        if (fab && loaded?.hash !== fab.hashStr) {
          loaded = await loadApp(fab);
        }
        let reply: Message;
        if (!loaded || loaded.app instanceof AppLoadError) {
          const why =
            loaded?.app instanceof AppLoadError ? loaded.app.message : "the run has no FAB";
          appLog("ERROR", `ClientApp raised an exception\n${why}`);
          reply = new Message(
            new MessageError(
              ErrorCode.LOAD_CLIENT_APP_EXCEPTION,
              "An exception was raised when attempting to load `ClientApp`",
            ),
            { replyTo: message },
          );
        } else {
          if (loaded.config) context.runConfig = fuseRunConfig(loaded.config, context.runConfig);
          const tHandle = traceNow();
          reply = await loaded.app.handle(message, context);
          traceSpan("ca.handle", tHandle, { id: message.metadata.messageId });
        }
        const tOut = traceNow();
        const [out] = prepareOutgoingBatch([reply], inline.serverMaxBytes) as [OutgoingMessage];
        traceSpan("ca.deflate", tOut, { id: out.deflated.messageId });
        const res = await withAppIoRetry(() =>
          client.pushMessage(
            {
              token: current,
              runId,
              messagesList: [out.proto],
              messageObjectTrees: [out.deflated.tree],
            },
            { metadata: markInlined(new Metadata(), out.inlined ? [out.deflated.messageId] : []) },
          ),
        );
        await pushWantedObjects([out], res.objectsToPush, async (objectId, content) => {
          const r = await withAppIoRetry(() =>
            client.pushObject({
              node,
              runId,
              objectId,
              objectContent: Buffer.from(content.buffer, content.byteOffset, content.byteLength),
              sessionId: "",
            }),
          );
          return r.stored;
        });
        if (!wasInlined) await confirm();
        await withAppIoRetry(() =>
          client.pushAppOutputs({ token: current, runId, context: contextToProto(context) }),
        );
      } finally {
        heartbeat.stop();
      }
      const idleMs = options.idleMs ?? 0;
      if (idleMs <= 0) return 0;
      const next = await waitForNext(client, runId, idleMs);
      if (!next) return 0;
      token = next;
      warmRunId = runId;
    }
  } catch (error) {
    // An expected end (the SuperNode went away, the run stopped) is one line; a bug keeps its stack.
    const expected = expectedAppIoEnd(error, options.address);
    appLog(
      expected ? "WARNING" : "ERROR",
      `flwr-clientapp: ${expected ?? (error instanceof Error ? (error.stack ?? error.message) : String(error))}`,
    );
    return 1;
  } finally {
    await heartbeats.close();
    client.close();
  }
}

/** Installs `fab` and loads its ClientApp component; a failure is returned, not thrown. */
export async function loadApp(fab: {
  hashStr: string;
  content: Buffer;
  verifications: Map<string, string>;
}): Promise<LoadedApp> {
  try {
    const installed = installFab(fab, appsRoot());
    const config = readInstalledAppConfig(installed.appDir);
    registerAppLoader(appsRoot());
    const { module, exportName } = config.components.clientapp;
    const component = await loadComponent(installed.appDir, module, exportName, "ClientApp");
    if (!(component instanceof ClientApp))
      throw new AppLoadError(
        `'${module}:${exportName}' is not a ClientApp (export \`new ClientApp()\` from @flwr-ts/core).`,
      );
    return { hash: fab.hashStr, app: component, config };
  } catch (error) {
    const e =
      error instanceof AppLoadError
        ? error
        : new AppLoadError(error instanceof Error ? error.message : String(error), {
            cause: error,
          });
    return { hash: fab.hashStr, app: e, config: undefined };
  }
}

/** Waits for the run's next message and takes its token (warm reuse). */
async function waitForNext(
  client: ReturnType<typeof createClient<typeof ClientAppIoDefinition>>,
  runId: bigint,
  idleMs: number,
): Promise<string | undefined> {
  const deadline = Date.now() + idleMs;
  while (Date.now() < deadline) {
    const md = new Metadata();
    md.set(RUN_HEADER, runId.toString());
    md.set(WAIT_HEADER, String(Math.max(1, deadline - Date.now())));
    const started = Date.now();
    let issued: string | undefined;
    const { runIds } = await client.listAppsToLaunch(
      {},
      {
        metadata: md,
        timeoutMs: idleMs + 30_000,
        onResponseMetadata: (headers) => {
          const value = headers.get(WARM_TOKEN_HEADER)[0];
          if (typeof value === "string" && value !== "") issued = value;
        },
      },
    );
    if (runIds.includes(runId)) {
      // A flwr-ts SuperNode issues the token with the answer; others need RequestToken.
      if (issued) return issued;
      const { token } = await client.requestToken({ runId });
      return token || undefined;
    }
    // A server without the extension answers at once: do not spin.
    if (Date.now() - started < 100) return undefined;
  }
  return undefined;
}
