/**
 * TLS credentials for gRPC servers and clients, read from PEM files with
 * errors that name the file and what to do.
 */
import { readFileSync } from "node:fs";
import {
  type ChannelCredentials,
  credentials,
  experimental,
  ServerCredentials,
} from "@grpc/grpc-js";

/** A file the user named could not be used. */
export class CredentialFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CredentialFileError";
  }
}

function readPem(path: string, what: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "does not exist" : `cannot be read (${code ?? String(error)})`;
    throw new CredentialFileError(`${what} file '${path}' ${reason}.`);
  }
  if (!bytes.toString("latin1").includes("-----BEGIN ")) {
    throw new CredentialFileError(`${what} file '${path}' is not a PEM file.`);
  }
  return bytes;
}

/** Paths of a server's certificate chain, key and (optional) CA certificate. */
export interface ServerTlsFiles {
  caCertFile?: string | undefined;
  certFile: string;
  keyFile: string;
}

/** The PEM bytes of a server's TLS files, checked (for `node:https` and gRPC alike). */
export function readServerTls(files: ServerTlsFiles): { cert: Buffer; key: Buffer; ca?: Buffer } {
  const cert = readPem(files.certFile, "Server certificate");
  const key = readPem(files.keyFile, "Server private key");
  const ca = files.caCertFile ? readPem(files.caCertFile, "CA certificate") : undefined;
  return ca ? { cert, key, ca } : { cert, key };
}

/**
 * A certificate provider that hands grpc-js fixed PEM bytes (the CA and the server's pair).
 * grpc-js's certificate-provider credentials are the only ones that request a client certificate
 * without requiring one (`requestCert: true, rejectUnauthorized: false`).
 */
function staticCertificateProvider(
  ca: Buffer,
  cert: Buffer,
  key: Buffer,
): experimental.CertificateProvider {
  // Listeners are called after they were added, as a file watcher's are: grpc-js registers the
  // server's watcher only once its own listeners are in place, and would miss a synchronous call.
  return {
    addCaCertificateListener: (listener) => queueMicrotask(() => listener({ caCertificate: ca })),
    removeCaCertificateListener: () => {},
    addIdentityCertificateListener: (listener) =>
      queueMicrotask(() => listener({ certificate: cert, privateKey: key })),
    removeIdentityCertificateListener: () => {},
  };
}

/** Options of {@link serverCredentials}. */
export interface ServerCredentialOptions {
  /**
   * Ask clients for a certificate (optional for them) and verify the one presented against the
   * CA file: the Control API's operator certificates. Needs `caCertFile`. Default false (as
   * Flower: no client certificates).
   */
  requestClientCertificates?: boolean;
}

/**
 * Server credentials: TLS from PEM files, or insecure when `files` is undefined.
 * Client certificates are not requested (as in Flower) unless `requestClientCertificates`.
 */
export function serverCredentials(
  files: ServerTlsFiles | undefined,
  options: ServerCredentialOptions = {},
): ServerCredentials {
  if (!files) return ServerCredentials.createInsecure();
  const ca = files.caCertFile ? readPem(files.caCertFile, "CA certificate") : null;
  const cert = readPem(files.certFile, "Server certificate");
  const key = readPem(files.keyFile, "Server private key");
  if (options.requestClientCertificates) {
    if (!ca)
      throw new CredentialFileError(
        "Client certificates need the CA certificate that signs them (--ssl-ca-certfile).",
      );
    const provider = staticCertificateProvider(ca, cert, key);
    // One provider for both roles (grpc-js's parameter names and order differ between the
    // function and the class it builds).
    return experimental.createCertificateProviderServerCredentials(provider, provider, false);
  }
  return ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], false);
}

/**
 * The PEM bytes of a client's root certificates file, checked (for HTTPS clients, which take
 * the bytes; gRPC's {@link channelCredentials} reads them itself).
 * @throws CredentialFileError naming the file when it is missing or not PEM.
 */
export function readRootCertificates(path: string): Buffer {
  return readPem(path, "Root certificates");
}

/**
 * Channel credentials: TLS trusting `rootCertificatesFile` (or the system trust
 * store when it is undefined), or plaintext when `insecure`.
 */
export function channelCredentials(options: {
  insecure: boolean;
  rootCertificatesFile?: string | undefined;
  /** A client certificate and its key (PEM bytes) to present, e.g. an operator certificate. */
  clientCertificate?: { cert: Buffer; key: Buffer } | undefined;
}): ChannelCredentials {
  if (options.insecure) return credentials.createInsecure();
  const roots = options.rootCertificatesFile
    ? readPem(options.rootCertificatesFile, "Root certificates")
    : null;
  const client = options.clientCertificate;
  return client
    ? credentials.createSsl(roots, client.key, client.cert)
    : credentials.createSsl(roots);
}
