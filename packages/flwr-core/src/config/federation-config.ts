/**
 * The federations of a flwr-ts app: the `flwr.federations` section of its `package.json`
 * (the counterpart of Python Flower's `[tool.flwr.federations]`).
 *
 * ```json
 * { "flwr": { "app": { … },
 *   "federations": {
 *     "default": "my-federation",
 *     "my-federation": { "address": "127.0.0.1:9093", "root-certificates": "certificates/ca.crt" },
 *     "flower-1.42": { "address": "https://127.0.0.1:8000", "root-certificates": "certificates/ca.crt" }
 * } } }
 * ```
 *
 * Keys: `address` (required), `root-certificates`, `insecure`, and `transport` (`"grpc"` or
 * `"http"`); for a SuperLink started with flwr-ts's `--require-control-auth`, the operator's
 * credentials: `operator-certificate` + `operator-key` (a client certificate from
 * `flwr-ts gen-certs --operator NAME`) and/or `operator-token-file` (the SuperLink's
 * `--control-auth-token-file` token). Paths resolve against the app directory. A bare `host:port` is gRPC Control (Flower 1.29, the seed's form); an
 * `https://host:port` / `http://host:port` address or `"transport": "http"` is Flower 1.37+'s
 * HTTP Control API (`control-endpoint.ts` has the rules).
 *
 * Pure: the caller reads and JSON-parses the file; this module validates the value and
 * resolves paths against the app directory.
 */
import { isAbsolute, join } from "node:path";
import { z } from "zod";
import type { SimulationConfig } from "../proto/index.js";
import {
  CONTROL_TRANSPORTS,
  type ControlTransport,
  resolveControlEndpoint,
} from "./control-endpoint.js";
import {
  LOCAL_CONTROL_API_PORT,
  LOCAL_SUPERLINK_ADDRESS,
  localSuperLinkOf,
} from "./local-superlink.js";
import { simulationConfigOf, simulationOptionsSchema } from "./simulation-options.js";

/**
 * One federation: how the `flwr` CLI reaches the SuperLink's Control API. Read from an app's
 * `package.json` ({@link resolveFederation}) or from a `$FLWR_HOME/config.toml` SuperLink
 * connection (`resolveSuperLinkConnection`).
 */
export interface FederationConfig {
  /** The federation's name (its key in `flwr.federations`, or the connection's name). */
  readonly name: string;
  /** Control API address, `host:port` (any `http(s)://` scheme removed, a default port filled in). */
  readonly address: string;
  /** The wire the SuperLink's Control API speaks. */
  readonly transport: ControlTransport;
  /** CA certificate file trusted for TLS, resolved against the app directory; undefined = system trust store. */
  readonly rootCertificates: string | undefined;
  /** Plaintext (no TLS). */
  readonly insecure: boolean;
  /** Where the entry was read from: an app's `package.json` or `$FLWR_HOME/config.toml`. */
  readonly source: "package.json" | "config.toml";
  /** The file it was read from (absolute when the caller passed absolute paths). */
  readonly file: string;
  /**
   * Flower's federation to start runs in (`StartRunRequest.federation`): a connection's
   * `federation` key; undefined for package.json federations (the SuperLink's default).
   */
  readonly flowerFederation?: string | undefined;
  /** Operator client certificate (PEM) presented over TLS (`operator-certificate`), resolved. */
  readonly operatorCertificate?: string | undefined;
  /** Its private key (PEM, `operator-key`), resolved. */
  readonly operatorKey?: string | undefined;
  /** File with the operator bearer token (`operator-token-file`), resolved. */
  readonly operatorTokenFile?: string | undefined;
  /**
   * A simulation federation's `options` (`num-supernodes`, `backend.client-resources`, …), sent
   * as `StartRunRequest.override_federation_config`; undefined for a deployment federation.
   */
  readonly simulationConfig?: SimulationConfig | undefined;
  /**
   * Set when the address is Flower's local simulation SuperLink (`:local:`, or no address with
   * `options`): `flwr` starts it when none answers on {@link FederationConfig.address}.
   */
  readonly localSuperLink?: "database" | "in-memory" | undefined;
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

/** Schema of `transport`: `"grpc"` or `"http"`. */
export const controlTransportSchema = z.enum(
  CONTROL_TRANSPORTS as [ControlTransport, ...ControlTransport[]],
  {
    error: (i) =>
      `must be "grpc" or "http" (the wire of the SuperLink's Control API), got ${JSON.stringify(i.input)}`,
  },
);

/** The message of both `root-certificates` and `insecure = true`. */
export const BOTH_TLS_CHOICES_MESSAGE =
  "sets both 'root-certificates' and 'insecure = true'; remove one " +
  "('insecure' disables TLS, 'root-certificates' configures it)";

/** The message of an operator certificate without its key, or a key without its certificate. */
export const OPERATOR_PAIR_MESSAGE =
  "sets only one of 'operator-certificate' and 'operator-key'; set both (the files " +
  "`flwr-ts gen-certs --operator NAME` writes: operator-NAME.pem and operator-NAME.key)";

/** The message of operator credentials with `insecure = true`. */
export const OPERATOR_NEEDS_TLS_MESSAGE =
  "sets operator credentials with 'insecure = true'; operator authentication needs TLS " +
  "(remove 'insecure' and set 'root-certificates')";

const pathSchema = z
  .string({ error: "must be a path to a file" })
  .min(1, { error: "must not be empty" });

function hasOperatorCredentials(f: {
  "operator-certificate"?: string | undefined;
  "operator-token-file"?: string | undefined;
}): boolean {
  return f["operator-certificate"] !== undefined || f["operator-token-file"] !== undefined;
}

/** Schema of a SuperLink address, in a federation entry and in a `config.toml` connection alike. */
export const addressSchema = z
  .string({ error: (i) => (i.input === undefined ? "is required" : "must be a string") })
  .min(1, { error: "must not be empty" });

/** Schema of one federation entry (unknown keys are rejected so that typos surface). */
export const federationEntrySchema = z
  .strictObject({
    address: addressSchema.optional(),
    options: simulationOptionsSchema.optional(),
    "root-certificates": z
      .string({ error: "must be a path to a PEM file" })
      .min(1, { error: "must not be empty" })
      .optional(),
    insecure: z.boolean({ error: "must be true or false" }).optional(),
    transport: controlTransportSchema.optional(),
    "operator-certificate": pathSchema.optional(),
    "operator-key": pathSchema.optional(),
    "operator-token-file": pathSchema.optional(),
  })
  .refine((f) => f.address !== undefined || f.options !== undefined, {
    error:
      'is required (a SuperLink\'s Control API), unless the federation is a local simulation: "options": { "num-supernodes": 10 }',
    path: ["address"],
  })
  .refine((f) => !(f.insecure === true && f["root-certificates"] !== undefined), {
    error: BOTH_TLS_CHOICES_MESSAGE,
  })
  .refine((f) => (f["operator-certificate"] === undefined) === (f["operator-key"] === undefined), {
    error: OPERATOR_PAIR_MESSAGE,
  })
  .refine((f) => !(f.insecure === true && hasOperatorCredentials(f)), {
    error: OPERATOR_NEEDS_TLS_MESSAGE,
  });

/** A validated federation entry, as written in `package.json`. */
export type FederationEntry = z.infer<typeof federationEntrySchema>;

const sectionSchema = z.object({
  flwr: z.object({
    federations: z.record(z.string(), z.unknown()),
  }),
});

/** One line for the first issue of a failed parse. */
export function describeIssue(where: string, error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return `${where} is invalid`;
  const path = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    return (
      `${where} has unknown key(s) ${issue.keys.map((k) => `'${k}'`).join(", ")}; ` +
      (path === ""
        ? "allowed keys are 'address', 'root-certificates', 'insecure', 'transport', " +
          "'operator-certificate', 'operator-key', 'operator-token-file' and 'options'"
        : `check the keys of '${path}' (Flower's simulation options: 'num-supernodes', 'verbose', 'backend.name', 'backend.client-resources.num-cpus'/'num-gpus', 'backend.init-args.*')`)
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
  const simulationConfig =
    entry.data.options === undefined ? undefined : simulationConfigOf(entry.data.options);
  const local = localSuperLinkOf(entry.data.address ?? LOCAL_SUPERLINK_ADDRESS);
  if (local !== undefined) {
    return {
      ok: true,
      federation: {
        name,
        address: `127.0.0.1:${LOCAL_CONTROL_API_PORT}`,
        transport: "grpc",
        rootCertificates: undefined,
        insecure: true,
        source: "package.json",
        file: join(appDir, "package.json"),
        simulationConfig,
        localSuperLink: local,
      },
    };
  }
  const address = entry.data.address ?? LOCAL_SUPERLINK_ADDRESS;
  const rc = entry.data["root-certificates"];
  const resolvePath = (p: string | undefined) =>
    p === undefined ? undefined : isAbsolute(p) ? p : join(appDir, p);
  const endpoint = resolveControlEndpoint(
    {
      address,
      transport: entry.data.transport,
      insecure: entry.data.insecure,
      hasRootCertificates: rc !== undefined,
    },
    "grpc",
  );
  if (!endpoint.ok) {
    return fail("invalid", `Federation '${name}': '${endpoint.key}' ${endpoint.message}`);
  }
  return {
    ok: true,
    federation: {
      name,
      address: endpoint.endpoint.address,
      transport: endpoint.endpoint.transport,
      rootCertificates: rc === undefined ? undefined : isAbsolute(rc) ? rc : join(appDir, rc),
      insecure: endpoint.endpoint.insecure,
      source: "package.json",
      file: join(appDir, "package.json"),
      ...(entry.data["operator-certificate"] !== undefined
        ? {
            operatorCertificate: resolvePath(entry.data["operator-certificate"]),
            operatorKey: resolvePath(entry.data["operator-key"]),
          }
        : {}),
      ...(entry.data["operator-token-file"] !== undefined
        ? { operatorTokenFile: resolvePath(entry.data["operator-token-file"]) }
        : {}),
      ...(simulationConfig !== undefined ? { simulationConfig } : {}),
    },
  };
}
