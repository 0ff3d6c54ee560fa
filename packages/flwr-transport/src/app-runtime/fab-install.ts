/**
 * Installing a FAB for an app process (Python's `install_from_fab`): verify its SHA-256 against
 * the hash it was announced with and its manifest, then unpack it to
 * `$FLWR_HOME/apps/<publisher>.<name>.<version>.<hash8>/`. An app already installed there (with
 * the same full hash) is reused. Unpacking goes to a temporary directory that is renamed into
 * place, so concurrent app processes never see a half-written app.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import type { Fab } from "@flwr-ts/core/proto";
import { type FabContents, InvalidFabError, readFabContents } from "./fab-metadata.js";

/** Marker file holding the full hash of the installed FAB. */
const MARKER = ".fab-hash";

/** An installed app. */
export interface InstalledFab {
  /** The app directory. */
  readonly appDir: string;
  /** What the FAB contains. */
  readonly contents: FabContents;
}

/**
 * Verifies and installs `fab` under `appsRoot`.
 * @throws InvalidFabError when the hash, the manifest or a path is wrong.
 */
export function installFab(fab: Fab, appsRoot: string): InstalledFab {
  const contents = readFabContents(fab.content, fab.hashStr);
  const hash = contents.hash;
  const dirName = `${contents.publisher}.${contents.name}.${contents.fabVersion}.${hash.slice(0, 8)}`;
  const appDir = join(appsRoot, dirName);
  const marker = join(appDir, MARKER);
  if (existsSync(marker) && readFileSync(marker, "utf8") === hash) return { appDir, contents };
  mkdirSync(appsRoot, { recursive: true });
  const tmp = join(appsRoot, `.${dirName}.${randomBytes(6).toString("hex")}.tmp`);
  const root = resolve(tmp);
  try {
    for (const [path, data] of contents.files) {
      const target = resolve(root, path);
      if (!target.startsWith(root + sep))
        throw new InvalidFabError(`The FAB contains a path outside the app directory: ${path}`);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, data);
    }
    writeFileSync(join(tmp, MARKER), hash);
    if (existsSync(appDir)) rmSync(appDir, { recursive: true, force: true });
    try {
      renameSync(tmp, appDir);
    } catch (error) {
      // Another process installed it meanwhile.
      if (!(existsSync(marker) && readFileSync(marker, "utf8") === hash)) throw error;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { appDir, contents };
}
