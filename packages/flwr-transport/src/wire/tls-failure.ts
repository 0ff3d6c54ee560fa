/**
 * What went wrong in a failed TLS connection to a SuperLink, read from the error text grpc-js,
 * Node's TLS layer or the wire probe (`wire-probe.ts`) gives, so that the SuperNode and the CLI
 * can each end with one line that names the cause and the fix that fits it (a wrong CA needs
 * another root certificate; an expired certificate or one for another host name needs a new
 * server certificate, not another CA).
 */

/** The cause of a failed TLS connection. */
export type TlsFailureCause =
  /** The server's certificate does not chain to the trusted roots (wrong or missing CA). */
  | "untrusted"
  /** The server's certificate (or its CA's) has expired. */
  | "expired"
  /** The server's certificate is not valid yet (a clock is off). */
  | "not-yet-valid"
  /** The certificate is valid but not for the host name or IP the client connected to. */
  | "hostname"
  /** The client speaks TLS, the server plaintext. */
  | "server-plaintext"
  /** The client speaks plaintext, the server TLS. */
  | "client-plaintext"
  /** Any other TLS failure (the reason is shown as it is). */
  | "other";

/** A classified TLS failure. */
export interface TlsFailure {
  readonly cause: TlsFailureCause;
  /** The reason in short, without error-class prefixes (e.g. "certificate has expired"). */
  readonly reason: string;
}

const RULES: ReadonlyArray<readonly [RegExp, TlsFailureCause]> = [
  [
    /does not use TLS|wrong version number|packet length too long|http request/i,
    "server-plaintext",
  ],
  [/requires TLS/i, "client-plaintext"],
  [/CERT_HAS_EXPIRED|certificate has expired/i, "expired"],
  [/CERT_NOT_YET_VALID|certificate is not yet valid/i, "not-yet-valid"],
  [/ALTNAME|does not match certificate|Hostname\/IP/i, "hostname"],
  [
    /self[- ]signed|unable to (get local issuer|verify the first)|UNABLE_TO_|certificate signature failure|unknown ca|SELF_SIGNED/i,
    "untrusted",
  ],
];

/** Classifies the details of a failed call (or connection) as a TLS failure cause. */
export function classifyTlsFailure(details: string): TlsFailure {
  const cause = RULES.find(([pattern]) => pattern.test(details))?.[1] ?? "other";
  return { cause, reason: shortReason(details, cause) };
}

/**
 * The reason without Node's `Error [ERR_…]: ` prefix and the empty list Node prints for a
 * certificate without IP entries ("… is not in the cert's list: ").
 */
function shortReason(details: string, cause: TlsFailureCause): string {
  let text = details
    .replace(/^TLS handshake with \S+ failed: /, "")
    .replace(/^(Error )?\[ERR_[A-Z_]+\]: /, "")
    .trim();
  if (cause === "hostname") {
    const ip = /IP: (\S+) is not in the cert's list:\s*(.*)$/.exec(text);
    const host = /Host: (\S+?)\.? is not in the cert's altnames: (.*)$/.exec(text);
    if (ip) text = `the certificate has no entry for IP ${ip[1]}${listed(ip[2])}`;
    else if (host) text = `the certificate has no entry for ${host[1]}${listed(host[2])}`;
  }
  return text.replace(/\.$/, "");
}

function listed(names: string | undefined): string {
  const trimmed = (names ?? "").trim();
  return trimmed.length > 0 ? ` (it names ${trimmed})` : "";
}

/** What the client was configured with, to word the fix. */
export interface TlsFixContext {
  /** The address connected to, `host:port`. */
  readonly address: string;
  /** How the user sets the root certificates, e.g. `--root-certificates`. */
  readonly rootCertificatesSetting: string;
  /** How the user turns TLS off, e.g. `--insecure`. */
  readonly insecureSetting: string;
  /** How the user sets the address, e.g. `--superlink`. */
  readonly addressSetting: string;
}

function hostOf(address: string): string {
  const i = address.lastIndexOf(":");
  const host = i < 0 ? address : address.slice(0, i);
  return host.replace(/^\[(.*)\]$/, "$1");
}

/**
 * One sentence (or two) naming the cause of `failure` at the SuperLink `ctx.address` and the fix,
 * e.g. "TLS handshake with the SuperLink at 127.0.0.1:9092 failed: certificate has expired. Renew
 * the SuperLink's certificate (flwr-ts gen-certs) and restart it with the new one."
 */
export function explainTlsFailure(failure: TlsFailure, ctx: TlsFixContext): string {
  const at = `the SuperLink at ${ctx.address}`;
  const head = `TLS handshake with ${at} failed: ${failure.reason}.`;
  const host = hostOf(ctx.address);
  switch (failure.cause) {
    case "untrusted":
      return (
        `${head} Its certificate is not signed by a CA you trust: set ${ctx.rootCertificatesSetting} ` +
        "to the CA certificate that signed the SuperLink's certificate (ca.crt of flwr-ts gen-certs)."
      );
    case "expired":
      return (
        `${head} Renew the SuperLink's certificate (e.g. flwr-ts gen-certs --days 365) and ` +
        "restart the SuperLink with it."
      );
    case "not-yet-valid":
      return `${head} Check the clocks of this machine and of the one that issued the certificate.`;
    case "hostname":
      return (
        `${head} Connect with a name the certificate lists (${ctx.addressSetting}), or issue the ` +
        `SuperLink's certificate for ${host} (flwr-ts gen-certs --host ${host}) and restart it.`
      );
    case "server-plaintext":
      return (
        `${at[0]!.toUpperCase()}${at.slice(1)} does not use TLS (was it started with --insecure?): ` +
        `use ${ctx.insecureSetting}, or start the SuperLink with TLS.`
      );
    case "client-plaintext":
      return (
        `${at[0]!.toUpperCase()}${at.slice(1)} uses TLS, but this client connects without it: ` +
        `remove ${ctx.insecureSetting} and set ${ctx.rootCertificatesSetting}.`
      );
    default:
      return (
        `${head} Set ${ctx.rootCertificatesSetting} to the CA certificate that signed the ` +
        `SuperLink's certificate (or use ${ctx.insecureSetting} against a SuperLink started with --insecure).`
      );
  }
}
