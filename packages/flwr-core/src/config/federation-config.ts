/**
 * The federations of a flwr-ts app: the `flwr.federations` section of its `package.json`
 * (the counterpart of Python Flower's `[tool.flwr.federations]`).
 *
 * ```json
 * { "flwr": { "app": { … },
 *   "federations": {
 *     "default": "my-federation",
 *     "my-federation": { "address": "127.0.0.1:9093", "root-certificates": "certificates/ca.crt" }
 * } } }
 * ```
 *
 * Pure: the caller reads and JSON-parses the file; this module validates the value and
 * resolves paths against the app directory.
 */
import { isAbsolute, join } from "node:path";
import { z } from "zod";

/** One federation: how the `flwr` CLI reaches the SuperLink's Control API. */
export interface FederationConfig {
  /** The federation's name (its key in `flwr.federations`). */
  readonly name: string;
  /** Control API address, `host:port`. */
  readonly address: string;
  /** CA certificate file trusted for TLS, resolved against the app directory; undefined = system trust store. */
  readonly rootCertificates: string | undefined;
  /** Plaintext gRPC (no TLS). */
  readonly insecure: boolean;
}

/** What is wrong with a federation configuration. */
export type FederationConfigErrorCode =
  /** No `flwr` section, or no `flwr.federations`. */
  | "missing-section"
  /** No federation name given and no `flwr.federations.default`. */
  | "no-default"
  /** The named federation is not defined. */
  | "unknown-federation"
  /** A field has the wrong type or value. */
  | "invalid";

/** A federation configuration problem, with a message that says what to fix. */
export class FederationConfigError extends Error {
  /** Machine-readable category. */
  readonly code: FederationConfigErrorCode;

  /**
   * @param code - machine-readable category.
   * @param message - one line: what is wrong and what to do.
   */
  constructor(code: FederationConfigErrorCode, message: string) {
    super(message);
    this.name = "FederationConfigError";
    this.code = code;
  }
}

/** The outcome of {@link resolveFederation}: a federation or a typed error, never a throw. */
export type FederationResult =
  | { readonly ok: true; readonly federation: FederationConfig }
  | { readonly ok: false; readonly error: FederationConfigError };

const ADDRESS = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;

/** Schema of one federation entry (unknown keys are rejected so that typos surface). */
export const federationEntrySchema = z
  .strictObject({
    address: z
      .string({ error: (i) => (i.input === undefined ? "is required" : "must be a string") })
      .regex(ADDRESS, { error: "must be host:port, e.g. 127.0.0.1:9093 or [::1]:9093" })
      .refine((a) => Number(a.slice(a.lastIndexOf(":") + 1)) <= 65535, {
        error: "port must be 1-65535",
      })
      .refine((a) => Number(a.slice(a.lastIndexOf(":") + 1)) >= 1, {
        error: "port must be 1-65535",
      }),
    "root-certificates": z
      .string({ error: "must be a path to a PEM file" })
      .min(1, { error: "must not be empty" })
      .optional(),
    insecure: z.boolean({ error: "must be true or false" }).optional(),
  })
  .refine((f) => !(f.insecure === true && f["root-certificates"] !== undefined), {
    error:
      "sets both 'root-certificates' and 'insecure = true'; remove one " +
      "('insecure' disables TLS, 'root-certificates' configures it)",
  });

/** A validated federation entry, as written in `package.json`. */
export type FederationEntry = z.infer<typeof federationEntrySchema>;

const sectionSchema = z.object({
  flwr: z.object({
    federations: z.record(z.string(), z.unknown()),
  }),
});

function describeIssue(where: string, error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return `${where} is invalid`;
  const path = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    return (
      `${where} has unknown key(s) ${issue.keys.map((k) => `'${k}'`).join(", ")}; ` +
      "allowed keys are 'address', 'root-certificates' and 'insecure'"
    );
  }
  return path ? `${where}: '${path}' ${issue.message}` : `${where} ${issue.message}`;
}

/**
 * Picks and validates a federation from a parsed `package.json`.
 * @param packageJson - the parsed `package.json` of the app.
 * @param appDir - the app directory; relative `root-certificates` resolve against it.
 * @param federationName - the federation to use; defaults to `flwr.federations.default`.
 * @returns the federation, or a {@link FederationConfigError} saying what to fix.
 */
export function resolveFederation(
  packageJson: unknown,
  appDir: string,
  federationName?: string,
): FederationResult {
  const fail = (code: FederationConfigErrorCode, message: string): FederationResult => ({
    ok: false,
    error: new FederationConfigError(code, message),
  });
  const section = sectionSchema.safeParse(packageJson);
  if (!section.success) {
    return fail(
      "missing-section",
      `${join(appDir, "package.json")} has no "flwr": { "federations": { … } } section; add one, ` +
        `e.g. "federations": { "default": "my-federation", "my-federation": { "address": "127.0.0.1:9093", "root-certificates": "certificates/ca.crt" } }`,
    );
  }
  const federations = section.data.flwr.federations;
  let name = federationName;
  if (name === undefined || name === "") {
    const fallback = federations["default"];
    if (typeof fallback !== "string" || fallback === "") {
      return fail(
        "no-default",
        'No federation given and package.json has no "flwr.federations.default"; ' +
          'pass a federation name or set "default": "<federation>"',
      );
    }
    name = fallback;
  }
  const known = Object.keys(federations).filter((k) => k !== "default");
  if (name === "default" || !Object.hasOwn(federations, name)) {
    return fail(
      "unknown-federation",
      `Federation '${name}' is not defined in package.json "flwr.federations"` +
        (known.length > 0 ? `; defined: ${known.map((k) => `'${k}'`).join(", ")}` : "; add it"),
    );
  }
  const entry = federationEntrySchema.safeParse(federations[name]);
  if (!entry.success) {
    return fail("invalid", describeIssue(`Federation '${name}'`, entry.error));
  }
  const rc = entry.data["root-certificates"];
  return {
    ok: true,
    federation: {
      name,
      address: entry.data.address,
      rootCertificates: rc === undefined ? undefined : isAbsolute(rc) ? rc : join(appDir, rc),
      insecure: entry.data.insecure ?? false,
    },
  };
}
