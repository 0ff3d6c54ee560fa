/**
 * Retention of the ServerApp log a SuperLink stores per run (`flwr log`, `flwr run --stream`).
 * Flower keeps every line forever, so a long run's log grows with its rounds (about 0.7 KB per
 * FedAvg round). flwr-ts keeps at most {@link DEFAULT_RUN_LOG_MAX_BYTES} (configurable with
 * `flower-superlink --run-log-max-bytes`) of log text per run: once a run's log exceeds it, its
 * oldest entries are deleted until the rest fits; the newest entry is always kept. A reader
 * that has already streamed a deleted entry sees nothing change; `flwr log` of the whole run
 * then starts with the oldest entry kept.
 */

/** Default cap of one run's stored log text (UTF-8 bytes): 16 MiB. */
export const DEFAULT_RUN_LOG_MAX_BYTES = 16 * 1024 * 1024;

/** Smallest accepted cap: 1 KiB. */
export const MIN_RUN_LOG_MAX_BYTES = 1024;

/**
 * Log text the SQLite LinkState writes between two `PRAGMA shrink_memory` calls: 1 MiB.
 *
 * Log pages are written once and rarely read again, but SQLite's page cache (Flower's
 * `cache_size = -64000`, up to 64 MB per connection) keeps every page it wrote, so without a
 * release the SuperLink's resident memory followed the size of its `logs` table, about 1 KB per
 * FedAvg round for up to 64 MB. Releasing the cache after each MiB of log text bounds that part to
 * about this many bytes; hot pages (nodes, messages, objects) are read again from the operating
 * system's file cache, once per MiB of log (a few thousand rounds).
 */
export const LOG_CACHE_RELEASE_BYTES = 1024 * 1024;

/** UTF-8 size of a log entry. */
export function logEntryBytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}
