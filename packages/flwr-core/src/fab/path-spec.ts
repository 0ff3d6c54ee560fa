/**
 * Gitignore-style path patterns, as Python Flower matches `.gitignore`, its built-in FAB rules
 * and `fab-include`/`fab-exclude`: `pathspec.PathSpec.from_lines("gitwildmatch", …)`.
 *
 * Each pattern is matched by the `ignore` package (the gitignore implementation ESLint and
 * others use), one pattern at a time, and the last pattern that matches a path decides, `!`
 * negating: that is pathspec's rule. (Git's own rule, which `ignore` applies to a whole list,
 * differs: a file below an excluded directory cannot be re-included there, while pathspec and
 * so Flower re-include it.) Matching is case-sensitive, as pathspec's. Two spellings that
 * `ignore` reads differently from pathspec are rewritten first: a `[` that opens no character
 * class (`[a`, `[]`) is a literal `[`, and a trailing `/**\/` matches everything below the
 * directory, files too (as `/**`).
 */
import ignore, { type Ignore } from "ignore";

interface Rule {
  readonly negate: boolean;
  readonly matcher: Ignore;
}

/** Escapes each `[` that opens no character class (pathspec reads it as a literal `[`). */
function escapeLoneBrackets(pattern: string): string {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "\\" && i + 1 < pattern.length) {
      out += c + pattern[i + 1];
      i++;
    } else if (c === "[") {
      let first = i + 1;
      if (pattern[first] === "!" || pattern[first] === "^") first++;
      // As fnmatch: a `]` right after `[` or `[!` is a member, not the end.
      const end = pattern.indexOf("]", first + 1);
      if (end < 0 || pattern.slice(first, end).includes("/")) out += "\\[";
      else {
        out += pattern.slice(i, end + 1);
        i = end;
      }
    } else out += c;
  }
  return out;
}

/** A compiled list of gitignore-style patterns. */
export class PathSpec {
  private readonly rules: Rule[] = [];

  /**
   * @param patterns - pattern lines (blank lines and `#` comments are skipped).
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
      if (p === "" || p === "/") continue;
      if (p.endsWith("/**/")) p = p.slice(0, -1);
      this.rules.push({
        negate,
        matcher: ignore({ ignorecase: false }).add(escapeLoneBrackets(p)),
      });
    }
  }

  /** True when the spec has no patterns. */
  get empty(): boolean {
    return this.rules.length === 0;
  }

  /** True when the (POSIX, relative) file path is matched by the patterns. */
  matches(path: string): boolean {
    let matched = false;
    for (const rule of this.rules) if (rule.matcher.ignores(path)) matched = !rule.negate;
    return matched;
  }
}
