/**
 * What every `flwr` command that talks to a SuperLink needs: the federation from the app's
 * `package.json`, a Control API client for it, and the translation of gRPC failures into one
 * clear line (as Python Flower's `flwr_cli_grpc_exc_handler` does).
 */
import { readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { type FederationConfig, resolveFederation } from "@flwr-ts/core";
import { ControlDefinition } from "@flwr-ts/core/proto";
import { status } from "@grpc/grpc-js";
import { flowerChannelOptions } from "../grpc/channel-options.js";
import { createClient, type ServiceClient } from "../grpc/client.js";
import { isServiceError } from "../grpc/rpc-error.js";
import { CredentialFileError, channelCredentials } from "../grpc/tls.js";
import { classifyRpcError, rpcErrorDetails } from "../supernode/rpc-retry.js";
import { CliError } from "./cli-error.js";

/** A typed Control API client. */
export type ControlClient = ServiceClient<typeof ControlDefinition>;

/** Deadline of one Control call, ms (a SuperLink that accepts but never answers). */
export const CONTROL_CALL_TIMEOUT_MS = 30_000;

/**
 * Reads `<appDir>/package.json` and picks the federation.
 * @param federationName - undefined: `flwr.federations.default`.
 * @throws CliError with what to fix.
 */
export function loadFederation(appDir: string, federationName?: string): FederationConfig {
  const dir = resolve(appDir);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new CliError(`App directory '${appDir}' does not exist.`);
  const file = join(dir, "package.json");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new CliError(`'${appDir}' is not a flwr-ts app: ${file} does not exist.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const result = resolveFederation(json, dir, federationName);
  if (!result.ok) throw new CliError(result.error.message);
  return result.federation;
}

/**
 * Opens a Control API client for the federation (TLS with its root certificates, or insecure).
 * @throws CliError when the certificate file cannot be used.
 */
export function connectControl(federation: FederationConfig): ControlClient {
  let credentials: ReturnType<typeof channelCredentials>;
  try {
    credentials = channelCredentials({
      insecure: federation.insecure,
      rootCertificatesFile: federation.rootCertificates,
    });
  } catch (err) {
    if (err instanceof CredentialFileError) {
      throw new CliError(
        `${err.message} Check "root-certificates" of federation '${federation.name}'.`,
      );
    }
    throw err;
  }
  return createClient(ControlDefinition, federation.address, credentials, {
    channelOptions: flowerChannelOptions,
  });
}

/** Converts a failed Control call into the one line the user sees. */
export function controlErrorToCliError(error: unknown, federation: FederationConfig): CliError {
  if (!isServiceError(error)) {
    return new CliError(error instanceof Error ? error.message : String(error));
  }
  const details = rpcErrorDetails(error);
  const where = `the SuperLink at ${federation.address}`;
  switch (classifyRpcError(error)) {
    case "tls":
      return new CliError(
        `TLS handshake with ${where} failed (${details}). Set "root-certificates" of federation ` +
          `'${federation.name}' in package.json to the CA certificate that signed the SuperLink's certificate.`,
      );
    case "unavailable":
      return new CliError(
        `Cannot connect to ${where} (${details}). Check that the SuperLink is running and the ` +
          `'address' of federation '${federation.name}' in package.json.`,
      );
    case "deadline":
      return new CliError(`${where} did not answer within ${CONTROL_CALL_TIMEOUT_MS / 1000} s.`);
    case "unauthenticated":
      return new CliError(
        "Authentication failed. Please run `flwr login` to authenticate and try again.",
      );
    case "run-not-running":
      return new CliError(`Permission denied. ${details}`);
    default:
      break;
  }
  if (error.code === status.NOT_FOUND && details === "Node ID not found for account") {
    return new CliError("Node ID not found for this account.");
  }
  if (error.code === status.FAILED_PRECONDITION && details === "Public key already in use") {
    return new CliError("The provided public key is already in use by another SuperNode.");
  }
  if (
    error.code === status.FAILED_PRECONDITION &&
    details === "The provided public key is not valid"
  ) {
    return new CliError(
      "The provided public key is invalid. Please provide a valid NIST EC public key.",
    );
  }
  if (error.code === status.UNIMPLEMENTED) {
    return new CliError(`${where} does not support this command (${details}).`);
  }
  return new CliError(details);
}

/**
 * Runs `fn` with a Control client for the federation, closing it afterwards; gRPC failures
 * become one-line {@link CliError}s.
 */
export async function withControl<T>(
  federation: FederationConfig,
  fn: (client: ControlClient, timeoutMs: number) => Promise<T>,
): Promise<T> {
  const client = connectControl(federation);
  try {
    return await fn(client, CONTROL_CALL_TIMEOUT_MS);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw controlErrorToCliError(error, federation);
  } finally {
    client.close();
  }
}
