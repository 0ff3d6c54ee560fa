/**
 * App heartbeats (Flower's `HeartbeatSender` with `make_app_heartbeat_fn_grpc`): an app process
 * calls SendAppHeartbeat at once and then every `intervalMs`, keeping its token alive (each
 * heartbeat extends it to now + 60 s). `onLost` fires when the server answers `success=false`
 * (the token expired or was deleted, e.g. the run was stopped).
 */

/** A running heartbeat. */
export interface AppHeartbeat {
  /** Stops sending. */
  stop(): void;
}

/**
 * Starts heartbeats.
 * @param send - one SendAppHeartbeat call; resolves with `success`.
 */
export function startAppHeartbeat(
  send: () => Promise<boolean>,
  options: {
    intervalMs?: number;
    /** Send the first heartbeat at once (Flower's behaviour, default) or after `intervalMs`. */
    immediate?: boolean;
    onLost?: () => void;
    onError?: (error: unknown) => void;
  } = {},
): AppHeartbeat {
  const intervalMs = options.intervalMs ?? 10_000;
  let stopped = false;
  const beat = async () => {
    try {
      const ok = await send();
      if (!ok && !stopped) options.onLost?.();
    } catch (error) {
      if (!stopped) options.onError?.(error);
    }
  };
  if (options.immediate !== false) void beat();
  const timer = setInterval(() => void beat(), intervalMs);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
