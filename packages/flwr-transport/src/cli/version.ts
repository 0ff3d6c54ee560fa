/** The flwr-ts version shown by `--version`, read from this package's package.json. */
import { readFileSync } from "node:fs";

/** `@flwr-ts/transport`'s version, or "unknown" when package.json cannot be read. */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
}
