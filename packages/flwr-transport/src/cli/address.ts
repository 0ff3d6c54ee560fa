/** Parsing `host:port` addresses the way Python Flower's `parse_address` accepts them. */

/** A parsed address. */
export interface ParsedAddress {
  /** Host name, IPv4 address, or IPv6 address without brackets. */
  readonly host: string;
  /** Port, 0–65535. */
  readonly port: number;
  /** True for an IPv6 host. */
  readonly isV6: boolean;
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$/;
const IPV6 = /^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$/;

/**
 * Parses `host:port`, `[ipv6]:port` (or a bare IPv6 with the port after the last colon).
 * @returns the parts, or undefined when the text is not an address.
 */
export function parseAddress(text: string): ParsedAddress | undefined {
  const idx = text.lastIndexOf(":");
  if (idx <= 0) return undefined;
  const portText = text.slice(idx + 1);
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port > 65535) return undefined;
  let host = text.slice(0, idx);
  let bracketed = false;
  if (host.startsWith("[") && host.endsWith("]")) {
    host = host.slice(1, -1);
    bracketed = true;
  }
  if (host.includes(":")) {
    if (!IPV6.test(host)) return undefined;
    return { host, port, isV6: true };
  }
  if (bracketed || !HOSTNAME.test(host)) return undefined;
  return { host, port, isV6: false };
}

/** Formats an address for gRPC: `[v6]:port` or `host:port`. */
export function formatAddress(a: ParsedAddress): string {
  return a.isV6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
