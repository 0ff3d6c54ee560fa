import { describe, expect, test } from "vitest";
import { classifyTlsFailure, explainTlsFailure } from "./tls-failure.js";

const ctx = {
  address: "10.0.0.5:9092",
  rootCertificatesSetting: "--root-certificates",
  insecureSetting: "--insecure",
  addressSetting: "--superlink",
};

describe("classifyTlsFailure", () => {
  test.each([
    ["self-signed certificate in certificate chain", "untrusted"],
    ["unable to get local issuer certificate", "untrusted"],
    ["unable to verify the first certificate", "untrusted"],
    ["certificate has expired", "expired"],
    [
      "Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames: IP: 10.0.0.5 is not in the cert's list: ",
      "hostname",
    ],
    ["certificate is not yet valid", "not-yet-valid"],
    [
      "TLS handshake with 10.0.0.5:9092 failed: the server does not use TLS (was it started with --insecure?)",
      "server-plaintext",
    ],
    [
      "The server at 10.0.0.5:9092 requires TLS, but this client connects without it",
      "client-plaintext",
    ],
    ["alert handshake failure", "other"],
  ])("%s → %s", (details, cause) => {
    expect(classifyTlsFailure(details).cause).toBe(cause);
  });

  test("a hostname mismatch is reworded without Node's prefix and empty list", () => {
    expect(
      classifyTlsFailure(
        "Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames: IP: 10.0.0.5 is not in the cert's list: ",
      ).reason,
    ).toBe("the certificate has no entry for IP 10.0.0.5");
    expect(
      classifyTlsFailure(
        "Hostname/IP does not match certificate's altnames: Host: localhost. is not in the cert's altnames: DNS:flower.example.org",
      ).reason,
    ).toBe("the certificate has no entry for localhost (it names DNS:flower.example.org)");
  });
});

describe("explainTlsFailure", () => {
  test("a wrong CA asks for the right root certificate", () => {
    const line = explainTlsFailure(
      classifyTlsFailure("self-signed certificate in certificate chain"),
      ctx,
    );
    expect(line).toBe(
      "TLS handshake with the SuperLink at 10.0.0.5:9092 failed: self-signed certificate in certificate chain. " +
        "Its certificate is not signed by a CA you trust: set --root-certificates to the CA certificate that signed the SuperLink's certificate (ca.crt of flwr-ts gen-certs).",
    );
  });

  test("an expired certificate asks for a new certificate, not another CA", () => {
    const line = explainTlsFailure(classifyTlsFailure("certificate has expired"), ctx);
    expect(line).toContain("Renew the SuperLink's certificate");
    expect(line).not.toContain("--root-certificates");
  });

  test("a hostname mismatch names the host to issue the certificate for", () => {
    const line = explainTlsFailure(
      classifyTlsFailure(
        "Hostname/IP does not match certificate's altnames: IP: 10.0.0.5 is not in the cert's list: ",
      ),
      ctx,
    );
    expect(line).toContain("flwr-ts gen-certs --host 10.0.0.5");
    expect(line).toContain("--superlink");
  });

  test("plaintext mismatches name the setting to change", () => {
    expect(explainTlsFailure(classifyTlsFailure("the server does not use TLS"), ctx)).toBe(
      "The SuperLink at 10.0.0.5:9092 does not use TLS (was it started with --insecure?): use --insecure, or start the SuperLink with TLS.",
    );
    expect(explainTlsFailure(classifyTlsFailure("requires TLS"), ctx)).toBe(
      "The SuperLink at 10.0.0.5:9092 uses TLS, but this client connects without it: remove --insecure and set --root-certificates.",
    );
  });
});
