/**
 * Silences Node's DEP0123 warning ("Setting the TLS ServerName to an IP address is not permitted
 * by RFC 6066"), which grpc-js triggers on every TLS connection to an IP address such as
 * 127.0.0.1 — noise for users, as the certificate's IP SAN is still verified. Other warnings pass.
 */
export function silenceTlsServerNameWarning(): void {
  const original = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const first = rest[0];
    const code =
      typeof first === "object" && first !== null
        ? (first as { code?: string }).code
        : typeof rest[1] === "string"
          ? rest[1]
          : undefined;
    const text = typeof warning === "string" ? warning : warning.message;
    if (code === "DEP0123" || text.startsWith("Setting the TLS ServerName to an IP address"))
      return;
    original(warning, ...rest);
  }) as typeof process.emitWarning;
}
