/**
 * Capturing an app process's output for the SuperLink (Flower's `mirror_output_to_queue` +
 * `start_log_uploader`): everything written to stdout and stderr is still written there, and
 * also buffered and shipped with PushLogs every `intervalMs` (200 ms, as Flower) and on flush.
 */

/** A running capture. */
export interface LogCapture {
  /** Sends what is buffered now. */
  flush(): Promise<void>;
  /** Flushes, stops shipping and restores the streams. */
  stop(): Promise<void>;
}

/**
 * Starts capturing.
 * @param ship - one PushLogs call with the buffered chunks.
 */
export function captureOutput(
  ship: (chunks: string[]) => Promise<void>,
  options: { intervalMs?: number; onError?: (error: unknown) => void } = {},
): LogCapture {
  const intervalMs = options.intervalMs ?? 200;
  let buffer: string[] = [];
  let inFlight: Promise<void> = Promise.resolve();
  const originals = {
    stdout: process.stdout.write.bind(process.stdout),
    stderr: process.stderr.write.bind(process.stderr),
  };
  const patch = (stream: NodeJS.WriteStream, original: typeof originals.stdout) => {
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      buffer.push(
        typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"),
      );
      return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
  };
  patch(process.stdout, originals.stdout);
  patch(process.stderr, originals.stderr);

  const flush = (): Promise<void> => {
    inFlight = inFlight.then(async () => {
      if (buffer.length === 0) return;
      const chunks = buffer;
      buffer = [];
      try {
        await ship(chunks);
      } catch (error) {
        options.onError?.(error);
      }
    });
    return inFlight;
  };
  const timer = setInterval(() => void flush(), intervalMs);
  timer.unref();
  return {
    flush,
    async stop() {
      clearInterval(timer);
      await flush();
      process.stdout.write = originals.stdout as typeof process.stdout.write;
      process.stderr.write = originals.stderr as typeof process.stderr.write;
    },
  };
}
