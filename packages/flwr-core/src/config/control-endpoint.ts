/**
 * Which wire a SuperLink's Control API speaks and where it listens, as a federation
 * (`package.json`) or a SuperLink connection (`$FLWR_HOME/config.toml`) states it.
 *
 * Flower 1.29–1.36 SuperLinks (and flwr-ts's `--control-api-address`) serve Control over gRPC;
 * Flower 1.37+ SuperLinks (and flwr-ts's `--host/--port`) serve it as protobuf over HTTP at
 * `/v1/control/<method>` on their one HTTP port. The entry says which:
 *
 * | `address`                 | `transport`        | wire                           |
 * | ------------------------- | ------------------ | ------------------------------ |
 * | `https://host:port`       | absent or `"http"` | HTTP over TLS                  |
 * | `http://host:port`        | absent or `"http"` | plaintext HTTP                 |
 * | `host:port`               | `"http"`           | HTTP, TLS unless `insecure`    |
 * | `host:port`               | `"grpc"`           | gRPC, TLS unless `insecure`    |
 * | `host:port`               | absent             | the entry's default (see below)|
 *
 * A bare `host:port` defaults to gRPC in `package.json` (the seed's 1.29 form) and to HTTP in
 * `config.toml` (Flower 1.37+'s CLI, whose connections are HTTP). With HTTP the port may be
 * omitted (443 for https, 80 for http), as in a URL. Contradictions (a URL with `"grpc"`,
 * `http://` with root certificates, `https://` with `insecure`) are errors, never guesses.
 *
 * Pure: no I/O.
 */

/** The wire of a SuperLink's Control API. */
export type ControlTransport = "grpc" | "http";

/** Every {@link ControlTransport}, for validation messages. */
export const CONTROL_TRANSPORTS: readonly ControlTransport[] = ["grpc", "http"];

/** An entry's endpoint fields, before resolution. */
export interface ControlEndpointInput {
  /** `host:port`, `[v6]:port`, `http(s)://host[:port]`. */
  readonly address: string;
  /** The entry's `transport`, when given. */
  readonly transport?: ControlTransport | undefined;
  /** The entry's `insecure`, when given. */
  readonly insecure?: boolean | undefined;
  /** True when the entry names root certificates. */
  readonly hasRootCertificates: boolean;
}

/** A resolved endpoint. */
export interface ControlEndpoint {
  /** `host:port` (IPv6 in brackets), the scheme removed and a default port filled in. */
  readonly address: string;
  /** The wire. */
  readonly transport: ControlTransport;
  /** Plaintext (no TLS). */
  readonly insecure: boolean;
}

const HOST = String.raw`(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)`;
const HOST_PORT = new RegExp(`^${HOST}(?::(\\d{1,5}))?$`);
const URL_FORM = new RegExp(`^(https?)://${HOST}(?::(\\d{1,5}))?/?$`, "i");

/** What {@link resolveControlEndpoint} reports: the endpoint, or which key is wrong and why. */
export type ControlEndpointResult =
  | { readonly ok: true; readonly endpoint: ControlEndpoint }
  | {
      readonly ok: false;
      readonly key: "address" | "transport" | "insecure";
      readonly message: string;
    };

/** The address forms, for error messages. */
export const ADDRESS_FORMS =
  "host:port, or an http(s):// URL for Flower's HTTP Control API, e.g. 127.0.0.1:9093 or https://127.0.0.1:8000";

/**
 * Resolves an entry's address, transport and TLS choice.
 * @param defaultTransport - the wire of a bare `host:port` without `transport`.
 */
export function resolveControlEndpoint(
  input: ControlEndpointInput,
  defaultTransport: ControlTransport,
): ControlEndpointResult {
  const bad = (key: "address" | "transport" | "insecure", message: string) =>
    ({ ok: false, key, message }) as const;
  const text = input.address.trim();
  const url = URL_FORM.exec(text);
  let host: string;
  let portText: string | undefined;
  let transport: ControlTransport;
  let insecure: boolean;
  if (url) {
    const scheme = url[1]!.toLowerCase();
    host = url[2]!;
    portText = url[3];
    if (input.transport === "grpc") {
      return bad(
        "transport",
        `is "grpc" but 'address' ${text} is a URL, which means Flower's HTTP Control API; ` +
          'write the address as host:port for gRPC, or drop "transport"',
      );
    }
    transport = "http";
    if (scheme === "http") {
      if (input.hasRootCertificates) {
        return bad(
          "address",
          `${text} is plaintext HTTP but 'root-certificates' is set; use https:// for TLS`,
        );
      }
      if (input.insecure === false) {
        return bad(
          "insecure",
          `is false but 'address' ${text} is plaintext HTTP; use https:// for TLS, or drop 'insecure'`,
        );
      }
      insecure = true;
    } else {
      if (input.insecure === true) {
        return bad(
          "insecure",
          `is true but 'address' ${text} uses TLS (https://); use http:// for plaintext, or drop 'insecure'`,
        );
      }
      insecure = false;
    }
  } else {
    const m = HOST_PORT.exec(text);
    if (!m) {
      const hint = /^[a-z][a-z0-9+.-]*:\/\//i.test(text)
        ? " (only http:// and https:// URLs without a path are accepted)"
        : "";
      return bad("address", `must be ${ADDRESS_FORMS}${hint}`);
    }
    host = m[1]!;
    portText = m[2];
    transport = input.transport ?? defaultTransport;
    insecure = input.insecure ?? false;
  }
  let port: number;
  if (portText === undefined) {
    if (transport === "grpc") {
      return bad("address", `must be ${ADDRESS_FORMS} (gRPC needs the port)`);
    }
    port = insecure ? 80 : 443;
  } else {
    port = Number(portText);
    if (port < 1 || port > 65535) return bad("address", "port must be 1-65535");
  }
  return { ok: true, endpoint: { address: `${host}:${port}`, transport, insecure } };
}

/**
 * The address as a user would type it for the endpoint's wire: `host:port` for gRPC,
 * `https://host:port` / `http://host:port` for HTTP.
 */
export function controlEndpointLabel(endpoint: ControlEndpoint): string {
  if (endpoint.transport === "grpc") return endpoint.address;
  return `${endpoint.insecure ? "http" : "https"}://${endpoint.address}`;
}
