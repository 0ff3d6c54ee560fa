/**
 * Gitignore-style path patterns (the "gitwildmatch" rules Python Flower uses through
 * `pathspec` for `.gitignore`, built-in FAB rules and `fab-include`/`fab-exclude`).
 *
 * Supported: `#` comments, `!` negation (last match wins), a leading or inner `/` anchoring
 * to the root, a trailing `/` for directories only, `*`, `?`, `[…]`, `**` (any depth).
 * A pattern matching a directory matches everything below it.
 */

interface Rule {
  readonly negate: boolean;
  readonly dirOnly: boolean;
  readonly regex: RegExp;
}

function escapeRegex(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

/**
 * Compiles one pattern body (no `!`, no trailing `/`).
 * @throws SyntaxError for an unterminated character class.
 */
function compile(body: string, anchored: boolean): RegExp {
  let re = anchored ? "^" : "^(?:.*/)?";
  let i = 0;
  while (i < body.length) {
    const c = body[i]!;
    if (c === "*") {
      if (body[i + 1] === "*") {
        const atStart = i === 0 || body[i - 1] === "/";
        const atEnd = i + 2 === body.length || body[i + 2] === "/";
        if (atStart && atEnd) {
          if (i + 2 === body.length) re += ".*";
          else {
            re += "(?:.*/)?";
            i += 3;
            continue;
          }
          i += 2;
          continue;
        }
      }
      re += "[^/]*";
      i += 1;
    } else if (c === "?") {
      re += "[^/]";
      i += 1;
    } else if (c === "[") {
      const end = body.indexOf("]", i + 2);
      if (end < 0) throw new SyntaxError(`unterminated character class in pattern "${body}"`);
      let cls = body.slice(i + 1, end);
      if (cls.startsWith("!")) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, "\\\\")}]`;
      i = end + 1;
    } else if (c === "\\" && i + 1 < body.length) {
      re += escapeRegex(body[i + 1]!);
      i += 2;
    } else {
      re += escapeRegex(c);
      i += 1;
    }
  }
  return new RegExp(`${re}$`, "u");
}

/** A compiled list of gitignore-style patterns. */
export class PathSpec {
  private readonly rules: Rule[] = [];

  /**
   * @param patterns - pattern lines (blank lines and `#` comments are skipped).
   * @throws SyntaxError for a malformed pattern.
   */
  constructor(patterns: Iterable<string>) {
    for (const raw of patterns) {
      let p = raw.replace(/(?<!\\)\s+$/, "");
      if (p === "" || p.startsWith("#")) continue;
      let negate = false;
      if (p.startsWith("!")) {
        negate = true;
        p = p.slice(1);
      }
      let dirOnly = false;
      if (p.endsWith("/")) {
        dirOnly = true;
        p = p.slice(0, -1);
      }
      if (p === "") continue;
      const anchored = p.includes("/");
      if (p.startsWith("/")) p = p.slice(1);
      this.rules.push({ negate, dirOnly, regex: compile(p, anchored) });
    }
  }

  /** True when the spec has no patterns. */
  get empty(): boolean {
    return this.rules.length === 0;
  }

  /** True when the (POSIX, relative) file path is matched by the patterns. */
  matches(path: string): boolean {
    const parts = path.split("/");
    let matched = false;
    for (const rule of this.rules) {
      let hit = false;
      for (let n = 1; n <= parts.length && !hit; n++) {
        const isFile = n === parts.length;
        if (isFile && rule.dirOnly) continue;
        hit = rule.regex.test(parts.slice(0, n).join("/"));
      }
      if (hit) matched = !rule.negate;
    }
    return matched;
  }
}
