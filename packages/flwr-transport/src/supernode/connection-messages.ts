/**
 * The SuperNode's last line when it cannot reach its SuperLink: a failed TLS connection (the cause,
 * from `wire/tls-failure.ts`, and the fix in terms of `flower-supernode`'s flags), or reconnection
 * given up after `--max-retries` / `--max-wait-time` (where it tried and what to check).
 */
import { classifyTlsFailure, explainTlsFailure } from "../wire/tls-failure.js";

function bareAddress(superlink: string): string {
  return superlink.replace(/^[a-z+]+:\/\//i, "");
}

/**
 * The fatal message for a TLS failure with `details` at `superlink` (the `--superlink` value).
 * @example superNodeTlsMessage("certificate has expired", "127.0.0.1:9092")
 */
export function superNodeTlsMessage(details: string, superlink: string): string {
  return explainTlsFailure(classifyTlsFailure(details), {
    address: bareAddress(superlink),
    rootCertificatesSetting: "--root-certificates",
    insecureSetting: "--insecure",
    addressSetting: "--superlink",
  });
}

/**
 * The fatal message once reconnection is given up: `givingUp` is `RetriesExhaustedError`'s
 * message ("Giving up reconnection after … (last error: …)").
 */
export function retriesExhaustedMessage(givingUp: string, superlink: string): string {
  return (
    `${givingUp.replace(/^Giving up reconnection/, `Giving up reconnection to the SuperLink at ${bareAddress(superlink)}`)}. ` +
    "Check that the SuperLink is running and that --superlink names its Fleet API address " +
    "(--max-retries and --max-wait-time bound the attempts)."
  );
}
