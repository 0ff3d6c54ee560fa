/**
 * What every `flwr` command that talks to a SuperLink needs: a Control API client on the wire
 * the federation names — gRPC (`createClient`, Flower 1.29–1.36 and flwr-ts's
 * `--control-api-address`) or protobuf over HTTP (`createHttpClient`, Flower 1.37+ and flwr-ts's
 * `--port`) — and the translation of failures into one clear line (as Python Flower's
 * `flwr_cli_grpc_exc_handler` does). Both clients are wrapped in `withWireCheck`, so a wrong
 * guess (a gRPC call answered by an HTTP/1.1 server, an HTTP call answered by gRPC, TLS against
 * plaintext) fails at once with a line naming the key to change, never a hang or a trace.
 *
 * Where the federation comes from (`package.json` or `$FLWR_HOME/config.toml`) is
 * `control-target.ts`.
 */
import { readFileSync } from "node:fs";
import { controlEndpointLabel, type FederationConfig } from "@flwr-ts/core";
import { ControlDefinition } from "@flwr-ts/core/proto";
import { Metadata } from "@grpc/grpc-js";
import { flowerChannelOptions } from "../grpc/channel-options.js";
import { createClient } from "../grpc/client.js";
import { CredentialFileError, channelCredentials } from "../grpc/tls.js";
import {
  AUTHORIZATION_HEADER,
  ControlAuthTokenError,
  readControlAuthToken,
} from "../protocol/control-auth/control-auth-token.js";
import { classifyRpcError, rpcErrorDetails } from "../supernode/rpc-retry.js";
import { Code } from "../wire/code.js";
import { parseGrpcFlowerError } from "../wire/flower-error-details.js";
import { createHttpClient } from "../wire/http/http-client.js";
import { isServiceError } from "../wire/rpc-error.js";
import type { ServiceClient } from "../wire/service-client.js";
import { classifyTlsFailure, explainTlsFailure } from "../wire/tls-failure.js";
import { WireMismatchError, withWireCheck } from "../wire/wire-probe.js";
import { CliError } from "./cli-error.js";
import { ensureLocalSuperLink } from "./local-superlink.js";

export { loadFederation } from "./control-target.js";

/** A typed Control API client (either wire). */
export type ControlClient = ServiceClient<typeof ControlDefinition>;

/** Deadline of one Control call, ms (a SuperLink that accepts but never answers). */
export const CONTROL_CALL_TIMEOUT_MS = 30_000;

/** Flower's API error codes the CLI words itself (`flwr/supercore/error/catalog.py`). */
const PUBLIC_KEY_NOT_VALID = 22;
const PUBLIC_KEY_ALREADY_IN_USE = 23;
const NODE_NOT_FOUND = 24;

/** How messages name the entry: `federation 'x' in /app/package.json` or `connection 'x' in …`. */
export function entryName(federation: FederationConfig): string {
  return federation.source === "config.toml"
    ? `SuperLink connection '${federation.name}' in ${federation.file}`
    : `federation '${federation.name}' in ${federation.file}`;
}

/** The SuperLink's address as the user wrote it for its wire (`host:port` or a URL). */
export function federationLabel(federation: FederationConfig): string {
  return controlEndpointLabel(federation);
}

function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(":");
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
}

function readRootCertificatesFile(path: string, federation: FederationConfig): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "does not exist" : `cannot be read (${code ?? String(error)})`;
    throw new CliError(
      `Root certificates file '${path}' ${reason}. Check "root-certificates" of ${entryName(federation)}.`,
    );
  }
  if (!bytes.toString("latin1").includes("-----BEGIN ")) {
    throw new CliError(
      `Root certificates file '${path}' is not a PEM file. Check "root-certificates" of ${entryName(federation)}.`,
    );
  }
  return bytes;
}

function readOperatorPem(path: string, key: string, federation: FederationConfig): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "does not exist" : `cannot be read (${code ?? String(error)})`;
    throw new CliError(
      `Operator file '${path}' ${reason}. Check "${key}" of ${entryName(federation)} ` +
        "(`flwr-ts gen-certs --operator NAME` writes operator-NAME.pem and operator-NAME.key).",
    );
  }
  if (!bytes.toString("latin1").includes("-----BEGIN ")) {
    throw new CliError(
      `Operator file '${path}' is not a PEM file. Check "${key}" of ${entryName(federation)}.`,
    );
  }
  return bytes;
}

/** The operator credentials of a federation (`operator-*` keys), read and checked. */
function operatorCredentials(federation: FederationConfig): {
  clientCertificate?: { cert: Buffer; key: Buffer };
  token?: string;
} {
  const out: { clientCertificate?: { cert: Buffer; key: Buffer }; token?: string } = {};
  if (federation.operatorCertificate !== undefined && federation.operatorKey !== undefined)
    out.clientCertificate = {
      cert: readOperatorPem(federation.operatorCertificate, "operator-certificate", federation),
      key: readOperatorPem(federation.operatorKey, "operator-key", federation),
    };
  if (federation.operatorTokenFile !== undefined) {
    try {
      out.token = readControlAuthToken(
        federation.operatorTokenFile,
        `Operator token file (operator-token-file of ${entryName(federation)})`,
      );
    } catch (error) {
      if (error instanceof ControlAuthTokenError) throw new CliError(error.message);
      throw error;
    }
  }
  return out;
}

/**
 * Opens a Control API client for the federation on its wire (TLS with its root certificates,
 * or plaintext when `insecure`), presenting the operator's certificate and/or token when the
 * federation names them (`operator-certificate`/`operator-key`, `operator-token-file`).
 * @throws CliError when a certificate, key or token file cannot be used.
 */
export function connectControl(federation: FederationConfig): ControlClient {
  const { host, port } = splitAddress(federation.address);
  const label = federationLabel(federation);
  const operator = operatorCredentials(federation);
  const metadata =
    operator.token === undefined
      ? undefined
      : () => {
          const md = new Metadata();
          md.set(AUTHORIZATION_HEADER, `Bearer ${operator.token}`);
          return md;
        };
  let client: ControlClient;
  if (federation.transport === "http") {
    const rootCertificates =
      federation.insecure || federation.rootCertificates === undefined
        ? undefined
        : readRootCertificatesFile(federation.rootCertificates, federation);
    client = createHttpClient(ControlDefinition, label, {
      rootCertificates,
      ...(operator.clientCertificate ? { clientCertificate: operator.clientCertificate } : {}),
      ...(metadata ? { metadata } : {}),
    });
  } else {
    let credentials: ReturnType<typeof channelCredentials>;
    try {
      credentials = channelCredentials({
        insecure: federation.insecure,
        rootCertificatesFile: federation.rootCertificates,
        clientCertificate: operator.clientCertificate,
      });
    } catch (err) {
      if (err instanceof CredentialFileError) {
        throw new CliError(`${err.message} Check "root-certificates" of ${entryName(federation)}.`);
      }
      throw err;
    }
    client = createClient(ControlDefinition, federation.address, credentials, {
      channelOptions: flowerChannelOptions,
      ...(metadata ? { metadata } : {}),
    });
  }
  return withWireCheck<typeof ControlDefinition>(client, {
    wire: federation.transport,
    tls: !federation.insecure,
    host,
    port,
    label,
  });
}

/** The fix for a SuperLink that speaks the other wire than the entry says. */
function wireFix(federation: FederationConfig, peerWire: "grpc" | "http"): string {
  const where = entryName(federation);
  const url = `${federation.insecure ? "http" : "https"}://${federation.address}`;
  if (peerWire === "http") {
    return federation.source === "config.toml"
      ? `remove transport = "grpc" from ${where}`
      : `set "address": "${url}" (or add "transport": "http") in ${where}`;
  }
  return federation.source === "config.toml"
    ? `add transport = "grpc" to ${where}, or point its address at the SuperLink's HTTP port`
    : `set "address": "${federation.address}" (host:port, no scheme, no "transport": "http") in ${where}, ` +
        "or point it at the SuperLink's HTTP port";
}

/** A detail without Flower's trailing period (1.42 ends catalog messages with one, 1.29 does not). */
function bare(details: string): string {
  return details.replace(/\.$/, "");
}

/**
 * The line for a TLS failure whose fix is not another CA (an expired certificate, one for another
 * host name, a clock off): the cause and the fix (`wire/tls-failure.ts`); undefined otherwise.
 */
function tlsFailureLine(
  error: unknown,
  details: string,
  federation: FederationConfig,
): string | undefined {
  if (classifyRpcError(error) !== "tls") return undefined;
  const failure = classifyTlsFailure(details);
  if (!["expired", "not-yet-valid", "hostname"].includes(failure.cause)) return undefined;
  const entry = entryName(federation);
  return explainTlsFailure(failure, {
    address: federation.address.replace(/^[a-z+]+:\/\//i, ""),
    rootCertificatesSetting: `"root-certificates" of ${entry}`,
    insecureSetting: `insecure in ${entry}`,
    addressSetting: `"address" of ${entry}`,
  });
}

/** Converts a failed Control call into the one line the user sees. */
export function controlErrorToCliError(error: unknown, federation: FederationConfig): CliError {
  if (!isServiceError(error)) {
    return new CliError(error instanceof Error ? error.message : String(error));
  }
  const label = federationLabel(federation);
  const where = `the SuperLink at ${label}`;
  if (error instanceof WireMismatchError) {
    const subject = `The SuperLink at ${label}`;
    return error.peerWire === "http"
      ? new CliError(
          `${subject} speaks Flower's HTTP Control API (Flower 1.37+, flwr-ts --port), not gRPC: ` +
            `${wireFix(federation, "http")}.`,
        )
      : new CliError(
          `${subject} speaks gRPC Control (Flower 1.29-1.36, flwr-ts --control-api-address), ` +
            `not HTTP: ${wireFix(federation, "grpc")}.`,
        );
  }
  const flowerError = parseGrpcFlowerError(error.details);
  const details = flowerError
    ? flowerError.details
    : rpcErrorDetails(error)
        .replace(/^Cannot reach \S+: /, "")
        .replace(/^TLS handshake with \S+ failed: /, "");
  const apiCode = flowerError?.code ?? (error as { apiErrorCode?: number }).apiErrorCode;
  // TLS-mode mismatches found by the wire probe (`withWireCheck`).
  const toml = federation.source === "config.toml";
  const url = federation.transport === "http" && !toml;
  if (error.code === Code.UNAVAILABLE && /does not use TLS/.test(details)) {
    return new CliError(
      `The SuperLink at ${label} does not use TLS (was it started with --insecure?): ` +
        (url
          ? `use "http://${federation.address}" as the address`
          : toml
            ? "set insecure = true (and no root-certificates)"
            : 'set "insecure": true (and no "root-certificates")') +
        ` in ${entryName(federation)}.`,
    );
  }
  if (error.code === Code.UNAVAILABLE && /requires TLS/.test(details)) {
    return new CliError(
      `The SuperLink at ${label} uses TLS, but ${entryName(federation)} sets no TLS: ` +
        (url
          ? `use "https://${federation.address}" as the address`
          : toml
            ? "remove insecure = true"
            : 'remove "insecure": true') +
        ' and set "root-certificates".',
    );
  }
  const tlsCause = tlsFailureLine(error, details, federation);
  if (tlsCause !== undefined) return new CliError(tlsCause);
  switch (classifyRpcError(error)) {
    case "tls":
      return new CliError(
        `TLS handshake with ${where} failed (${details}). Set "root-certificates" of ` +
          `${entryName(federation)} to the CA certificate that signed the SuperLink's certificate.`,
      );
    case "unavailable":
      return new CliError(
        `Cannot connect to ${where} (${details}). Check that the SuperLink is running and the ` +
          `'address' of ${entryName(federation)}.`,
      );
    case "deadline":
      return new CliError(`${where} did not answer within ${CONTROL_CALL_TIMEOUT_MS / 1000} s.`);
    case "unauthenticated":
      if (/operator/i.test(details))
        return new CliError(
          `The SuperLink at ${label} refused the call: ${bare(details)}. Set them in ${entryName(federation)}.`,
        );
      return new CliError(
        "Authentication failed. Please run `flwr login` to authenticate and try again.",
      );
    case "run-not-running":
      return new CliError(`Permission denied. ${details}`);
    default:
      break;
  }
  const text = bare(details);
  if (
    apiCode === NODE_NOT_FOUND ||
    (error.code === Code.NOT_FOUND && text === "Node ID not found for account")
  ) {
    return new CliError("Node ID not found for this account.");
  }
  if (
    apiCode === PUBLIC_KEY_ALREADY_IN_USE ||
    (error.code === Code.FAILED_PRECONDITION && text === "Public key already in use")
  ) {
    return new CliError("The provided public key is already in use by another SuperNode.");
  }
  if (
    apiCode === PUBLIC_KEY_NOT_VALID ||
    (error.code === Code.FAILED_PRECONDITION && text === "The provided public key is not valid")
  ) {
    return new CliError(
      "The provided public key is invalid. Please provide a valid NIST EC public key.",
    );
  }
  if (error.code === Code.UNIMPLEMENTED) {
    return new CliError(`${where} does not support this command (${details}).`);
  }
  return new CliError(details);
}

/**
 * Runs `fn` with a Control client for the federation, closing it afterwards; call failures
 * become one-line {@link CliError}s.
 */
export async function withControl<T>(
  federation: FederationConfig,
  fn: (client: ControlClient, timeoutMs: number) => Promise<T>,
): Promise<T> {
  // Flower 1.29's local simulation SuperLink (`:local:`) is started on first use.
  const target = await ensureLocalSuperLink(federation);
  const client = connectControl(target);
  try {
    return await fn(client, CONTROL_CALL_TIMEOUT_MS);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw controlErrorToCliError(error, target);
  } finally {
    client.close();
  }
}
