/**
 * SuperLink connections of Flower 1.42's CLI: `$FLWR_HOME/config.toml` (`flwr/cli/flower_config.py`,
 * `cli/typing.py`), read as the `flwr` CLI's other source of federations.
 *
 * ```toml
 * [superlink]
 * default = "my-federation"
 *
 * [superlink.my-federation]
 * address = "127.0.0.1:8000"            # the SuperLink's one HTTP port
 * root-certificates = "/abs/path/ca.crt" # absolute, as Flower requires
 * # insecure = true                     # plaintext
 * # federation = "@acme/prod"           # StartRunRequest.federation
 * # transport = "grpc"                  # flwr-ts only: a Flower 1.29–1.36 gRPC Control API
 * # operator-certificate = "/abs/operator-alice.pem"  # flwr-ts only: --require-control-auth
 * # operator-key = "/abs/operator-alice.key"
 * # operator-token-file = "/abs/control-token"
 * ```
 *
 * A connection's bare `host:port` is Flower's HTTP Control API, as for Flower 1.37+'s CLI
 * (`https://` unless `insecure`); `transport = "grpc"` selects gRPC Control for a Flower
 * 1.29–1.36 SuperLink (whose CLI read the same file over gRPC) or flwr-ts's
 * `--control-api-address`. Python's CLI ignores keys it does not know, so `transport` does not
 * disturb it. Other keys Flower defines (`options.*`, simulation only) are ignored here too.
 *
 * Pure: the caller reads the file; this module parses and validates it.
 */
import { isAbsolute } from "node:path";
import { parse, TomlError } from "smol-toml";
import { z } from "zod";
import { resolveControlEndpoint } from "./control-endpoint.js";
import {
  addressSchema,
  BOTH_TLS_CHOICES_MESSAGE,
  controlTransportSchema,
  describeIssue,
  type FederationConfig,
  FederationConfigError,
  type FederationConfigErrorCode,
  type FederationResult,
  OPERATOR_NEEDS_TLS_MESSAGE,
  OPERATOR_PAIR_MESSAGE,
} from "./federation-config.js";

export { LOCAL_SUPERLINK_ADDRESS } from "./local-superlink.js";

import { LOCAL_CONTROL_API_PORT, localSuperLinkOf } from "./local-superlink.js";
import { simulationConfigOf, simulationOptionsSchema } from "./simulation-options.js";

const absolutePath = z
  .string({ error: "must be a string (an absolute path)" })
  .refine((p) => isAbsolute(p), {
    error: (i) => `must be an absolute path, got relative path '${String(i.input)}'`,
  });

/** Schema of one `[superlink.<name>]` table (unknown keys allowed, as Flower's parser allows them). */
export const superLinkConnectionSchema = z
  .looseObject({
    address: addressSchema,
    "root-certificates": z
      .string({ error: "must be a string (an absolute path to a PEM file)" })
      .refine((p) => isAbsolute(p), {
        error: (i) => `must be an absolute path, got relative path '${String(i.input)}'`,
      })
      .optional(),
    insecure: z.boolean({ error: "must be true or false" }).optional(),
    federation: z.string({ error: "must be a string" }).optional(),
    transport: controlTransportSchema.optional(),
    "operator-certificate": absolutePath.optional(),
    "operator-key": absolutePath.optional(),
    "operator-token-file": absolutePath.optional(),
  })
  .refine((f) => !(f.insecure === true && f["root-certificates"] !== undefined), {
    error: BOTH_TLS_CHOICES_MESSAGE,
  })
  .refine((f) => (f["operator-certificate"] === undefined) === (f["operator-key"] === undefined), {
    error: OPERATOR_PAIR_MESSAGE,
  })
  .refine(
    (f) =>
      !(
        f.insecure === true &&
        (f["operator-certificate"] !== undefined || f["operator-token-file"] !== undefined)
      ),
    { error: OPERATOR_NEEDS_TLS_MESSAGE },
  );

/**
 * Picks and validates a SuperLink connection from the text of `$FLWR_HOME/config.toml`.
 * @param tomlText - the file's content.
 * @param configFile - its path, for messages and {@link FederationConfig.file}.
 * @param connectionName - the connection; default `[superlink].default`.
 * @returns the connection as a {@link FederationConfig} (`source: "config.toml"`), or an error
 *   saying what to fix.
 */
export function resolveSuperLinkConnection(
  tomlText: string,
  configFile: string,
  connectionName?: string,
): FederationResult {
  const fail = (code: FederationConfigErrorCode, message: string): FederationResult => ({
    ok: false,
    error: new FederationConfigError(code, message),
  });
  let doc: Record<string, unknown>;
  try {
    doc = parse(tomlText) as Record<string, unknown>;
  } catch (err) {
    const what = err instanceof TomlError ? err.message.split("\n")[0] : String(err);
    return fail("invalid", `${configFile} is not valid TOML: ${what}`);
  }
  const section = doc["superlink"];
  if (typeof section !== "object" || section === null || Array.isArray(section)) {
    return fail(
      "missing-section",
      `${configFile} has no [superlink] section; add one, e.g. [superlink.my-federation] ` +
        `with address = "127.0.0.1:8000" and root-certificates = "/path/to/ca.crt"`,
    );
  }
  const connections = section as Record<string, unknown>;
  let name = connectionName;
  if (name === undefined || name === "") {
    const fallback = connections["default"];
    if (typeof fallback !== "string" || fallback === "") {
      return fail(
        "no-default",
        `No SuperLink connection given and ${configFile} has no [superlink] default; ` +
          'pass a connection name or set default = "<connection>" under [superlink]',
      );
    }
    name = fallback;
  }
  const known = Object.keys(connections).filter(
    (k) => k !== "default" && typeof connections[k] === "object",
  );
  const table = Object.hasOwn(connections, name) ? connections[name] : undefined;
  if (name === "default" || typeof table !== "object" || table === null) {
    return fail(
      "unknown-federation",
      `SuperLink connection '${name}' is not defined in ${configFile}` +
        (known.length > 0 ? `; defined: ${known.map((k) => `'${k}'`).join(", ")}` : "") +
        `; add [superlink.${name}] with an address`,
    );
  }
  const where = `SuperLink connection '${name}' in ${configFile}`;
  const entry = superLinkConnectionSchema.safeParse(table);
  if (!entry.success) return fail("invalid", describeIssue(where, entry.error));
  const local = localSuperLinkOf(entry.data.address);
  if (local !== undefined) {
    // Flower 1.29's local simulation SuperLink; `options` (deprecated there, still honoured).
    const rawOptions = (table as Record<string, unknown>)["options"];
    let simulationConfig: FederationConfig["simulationConfig"];
    if (rawOptions !== undefined) {
      const options = simulationOptionsSchema.safeParse(rawOptions);
      if (!options.success)
        return fail("invalid", describeIssue(`${where}: options`, options.error));
      simulationConfig = simulationConfigOf(options.data);
    }
    return {
      ok: true,
      federation: {
        name,
        address: `127.0.0.1:${LOCAL_CONTROL_API_PORT}`,
        transport: "grpc",
        rootCertificates: undefined,
        insecure: true,
        source: "config.toml",
        file: configFile,
        flowerFederation: entry.data.federation,
        simulationConfig,
        localSuperLink: local,
      },
    };
  }
  const rc = entry.data["root-certificates"];
  const endpoint = resolveControlEndpoint(
    {
      address: entry.data.address,
      transport: entry.data.transport,
      insecure: entry.data.insecure,
      hasRootCertificates: rc !== undefined,
    },
    "http",
  );
  if (!endpoint.ok) return fail("invalid", `${where}: '${endpoint.key}' ${endpoint.message}`);
  const federation: FederationConfig = {
    name,
    address: endpoint.endpoint.address,
    transport: endpoint.endpoint.transport,
    rootCertificates: rc,
    insecure: endpoint.endpoint.insecure,
    source: "config.toml",
    file: configFile,
    flowerFederation: entry.data.federation,
    ...(entry.data["operator-certificate"] !== undefined
      ? {
          operatorCertificate: entry.data["operator-certificate"],
          operatorKey: entry.data["operator-key"],
        }
      : {}),
    ...(entry.data["operator-token-file"] !== undefined
      ? { operatorTokenFile: entry.data["operator-token-file"] }
      : {}),
  };
  return { ok: true, federation };
}
