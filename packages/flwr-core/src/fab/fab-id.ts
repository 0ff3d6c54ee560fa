/** FAB identity: id, version, hash and file name (Flower's conventions). */

/** Maximum FAB size in bytes (Flower's `FAB_MAX_SIZE`, 10 MiB). */
export const FAB_MAX_SIZE = 10 * 1024 * 1024;

/** Length of the hash prefix in FAB file names and install directories. */
export const FAB_HASH_TRUNCATION = 8;

/** `<publisher>/<name>`. */
export function fabIdOf(publisher: string, name: string): string {
  return `${publisher}/${name}`;
}

/**
 * Splits a FAB id into publisher and name.
 * @throws TypeError unless the id has exactly one `/`.
 */
export function parseFabId(fabId: string): { publisher: string; name: string } {
  const parts = fabId.split("/");
  if (parts.length !== 2 || parts[0] === "" || parts[1] === "") {
    throw new TypeError(`Invalid FAB ID: ${fabId} (expected "<publisher>/<name>")`);
  }
  return { publisher: parts[0]!, name: parts[1]! };
}

/** `<publisher>.<name>.<version with - for .>.<hash8>.fab`, as `flwr build` names FABs. */
export function fabFileName(
  publisher: string,
  name: string,
  version: string,
  hash: string,
): string {
  return `${publisher}.${name}.${version.replaceAll(".", "-")}.${hash.slice(0, FAB_HASH_TRUNCATION)}.fab`;
}

/** The install directory name `<publisher>.<name>.<version>.<hash8>` (under `$FLWR_HOME/apps`). */
export function fabInstallDirName(fabId: string, version: string, hash: string): string {
  const { publisher, name } = parseFabId(fabId);
  return `${publisher}.${name}.${version}.${hash.slice(0, FAB_HASH_TRUNCATION)}`;
}
