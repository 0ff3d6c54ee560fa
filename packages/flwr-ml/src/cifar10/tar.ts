/**
 * Streaming reader of `.tar.gz` archives: `node:zlib`'s gunzip and the `tar-stream` parser
 * (ustar, GNU and pax headers, header checksums), so neither the archive nor its decompressed
 * copy is ever held in memory, only each chunk on its way through.
 */
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { extract } from "tar-stream";
import { Cifar10Error } from "./errors.js";

/** A regular file of a tar archive, as it streams past. */
export interface TarMember {
  /** Path inside the archive. */
  name: string;
  /** Size in bytes, from its header. */
  size: number;
}

/** Where a {@link readTarGz} failure comes from. */
export type TarGzFailure = "source" | "gzip" | "tar";

/** A {@link readTarGz} failure: the cause's message, and which stage failed. */
export class TarGzError extends Cifar10Error {
  /**
   * @param stage - the failing stage.
   * @param reason - the underlying error.
   */
  constructor(
    readonly stage: TarGzFailure,
    readonly reason: Error,
  ) {
    super(
      stage === "gzip"
        ? `cannot decompress the archive (${reason.message}): truncated or not a .tar.gz`
        : stage === "tar"
          ? /unexpected end/i.test(reason.message)
            ? `truncated tar archive (${reason.message})`
            : `corrupt tar archive (${reason.message})`
          : reason.message,
    );
  }
}

/** An error thrown by the caller's `onFile`, carried out of the iteration unchanged. */
class CallbackFailure {
  constructor(readonly error: unknown) {}
}

/**
 * Reads a gzip-compressed tar stream, calling `onFile` for each regular file with its data
 * as a stream of chunks (what `onFile` leaves unread is skipped). Other entries (directories,
 * links) are skipped.
 * @throws TarGzError when the source, the gzip stream or the tar structure fails; errors
 *   thrown by `onFile` as they are.
 */
export async function readTarGz(
  source: Readable,
  onFile: (member: TarMember, data: AsyncIterable<Buffer>) => Promise<void>,
): Promise<void> {
  const gunzip = createGunzip();
  const tar = extract();
  let stage: TarGzFailure | undefined;
  source.once("error", () => {
    stage ??= "source";
  });
  gunzip.once("error", () => {
    stage ??= "gzip";
  });
  // The first stream to fail is the cause: the pipeline then destroys the others with it.
  tar.once("error", () => {
    stage ??= "tar";
  });
  const piping = pipeline(source, gunzip, tar);
  piping.catch(() => {}); // reported through the iteration below
  try {
    for await (const entry of tar) {
      if (entry.header.type === "file" || entry.header.type === "contiguous-file") {
        try {
          const data = entry as unknown as AsyncIterable<Buffer>;
          await onFile({ name: entry.header.name, size: entry.header.size ?? 0 }, data);
        } catch (error) {
          throw new CallbackFailure(error);
        }
      }
      entry.resume();
    }
    await piping;
  } catch (error) {
    if (error instanceof CallbackFailure) {
      source.destroy();
      throw error.error;
    }
    const failure = await piping.then(
      () => error as Error,
      (e: Error) => e,
    );
    throw new TarGzError(stage ?? "tar", failure);
  }
}
