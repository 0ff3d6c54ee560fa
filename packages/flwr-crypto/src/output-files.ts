/**
 * Writing generated key material: all-or-nothing existence check, no silent
 * overwrite, owner-only permissions for secrets.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { CryptoError } from "./errors.js";

/** File mode for private keys (owner read/write only). */
export const SECRET_FILE_MODE = 0o600;
/** File mode for certificates and public keys. */
export const PUBLIC_FILE_MODE = 0o644;

/** One file to write. */
export interface OutputFile {
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

/**
 * Fails when any of the paths exists and `overwrite` is false; call it before
 * expensive generation so nothing is computed in vain.
 * @param paths - files about to be written.
 * @param overwrite - replacing is allowed.
 * @throws CryptoError `file-exists`.
 */
export function assertWritable(paths: readonly string[], overwrite: boolean): void {
  if (overwrite) return;
  const existing = paths.filter((p) => existsSync(p));
  if (existing.length > 0)
    throw new CryptoError(
      "file-exists",
      `refusing to overwrite ${existing.join(", ")}; remove ${existing.length > 1 ? "them" : "it"} ` +
        `or pass overwrite: true (--force on the command line)`,
    );
}

/**
 * Writes files, creating parent directories. Unless `overwrite` is set, checks
 * first that none exists and writes nothing when one does; files are created
 * exclusively, so a file that appears meanwhile is not clobbered either.
 * @param files - files to write.
 * @param overwrite - replace existing files.
 * @throws CryptoError `file-exists` when a file exists and `overwrite` is false.
 */
export function writeOutputFiles(files: readonly OutputFile[], overwrite: boolean): void {
  assertWritable(
    files.map((f) => f.path),
    overwrite,
  );
  for (const f of files) {
    mkdirSync(dirname(f.path), { recursive: true });
    try {
      writeFileSync(f.path, f.content, { mode: f.mode, flag: overwrite ? "w" : "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST")
        throw new CryptoError("file-exists", `refusing to overwrite ${f.path}, created meanwhile`, {
          cause: err,
        });
      throw err;
    }
    chmodSync(f.path, f.mode);
  }
}
