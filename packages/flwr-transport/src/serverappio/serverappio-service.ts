/**
 * The ServerAppIo service ready to add to a grpc-js server: the handlers of
 * `serverappio-servicer.ts` behind Flower 1.29's token policy (`app-token-middleware.ts`).
 * Always plaintext, like Flower's AppIo APIs.
 */
import { ServerAppIoDefinition } from "@flwr-ts/core/proto";
import type { Server } from "@grpc/grpc-js";
import { createServiceImplementation, type ErrorReporter } from "../grpc/server-handlers.js";
import { createInlineAnnouncementMiddleware } from "../inline/inline-server.js";
import type { ObjectStore } from "../object-store/object-store.js";
import type { Logger } from "../superlink/logger.js";
import type { LinkState } from "../superlink/state/link-state.js";
import type { CallObserver } from "../wire/call-context.js";
import { createAppTokenMiddleware } from "./app-token-middleware.js";
import { createServerAppIoHandlers } from "./serverappio-servicer.js";

/**
 * Adds the ServerAppIo service to `server`.
 * @returns a function detaching the service from the state (call on shutdown).
 */
export function addServerAppIoService(
  server: Server,
  options: {
    state: LinkState;
    store: ObjectStore;
    log?: Logger;
    onError?: ErrorReporter;
    /** Inline-content limit (`inline/inline-content.ts`); 0 turns the extension off. */
    inlineMaxBytes?: number;
    /** Observers of every call (metrics). */
    observers?: CallObserver[];
  },
): () => void {
  const service = createServerAppIoHandlers(options);
  const { definition, implementation } = createServiceImplementation(
    ServerAppIoDefinition,
    service.handlers,
    {
      middleware: [
        createAppTokenMiddleware(options.state),
        createInlineAnnouncementMiddleware(options.inlineMaxBytes),
      ],
      ...(options.onError ? { onError: options.onError } : {}),
      ...(options.observers ? { observers: options.observers } : {}),
    },
  );
  server.addService(definition, implementation);
  return service.close;
}
