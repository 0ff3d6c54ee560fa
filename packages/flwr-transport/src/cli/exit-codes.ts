/**
 * Python Flower's exit codes (`flwr.common.exit.ExitCode`), printed as `Exit Code: <n>` with an
 * error. As in Flower, the process exit status is 0 for codes below 100 (graceful exits) and 1
 * for every error code; command-line usage errors exit with 2.
 */
export const ExitCode = {
  /** Success. */
  SUCCESS: 0,
  /** Graceful exit on SIGINT. */
  GRACEFUL_EXIT_SIGINT: 1,
  /** Graceful exit on SIGQUIT. */
  GRACEFUL_EXIT_SIGQUIT: 2,
  /** Graceful exit on SIGTERM. */
  GRACEFUL_EXIT_SIGTERM: 3,
  /** The SuperNode's private key file cannot be used. */
  SUPERNODE_NODE_AUTH_KEY_INVALID: 302,
  /** A SuperNode key was given together with `--insecure`. */
  SUPERNODE_STARTED_WITHOUT_TLS_BUT_NODE_AUTH_ENABLED: 303,
  /** The public key given to `flwr supernode register` cannot be used. */
  FLWRCLI_NODE_AUTH_PUBLIC_KEY_INVALID: 500,
  /** An address cannot be parsed. */
  COMMON_ADDRESS_INVALID: 600,
  /** Server TLS files are incomplete (Flower 1.42: not all of certfile, keyfile, CA file). */
  COMMON_TLS_SERVER_CERTIFICATES_INVALID: 605,
} as const;

/** Process exit status for a command-line usage error (argparse/click use 2). */
export const USAGE_EXIT_STATUS = 2;

/** The process exit status of a Flower exit code: 0 for graceful codes (< 100), else 1. */
export function exitStatusOf(code: number): number {
  return code >= 0 && code < 100 ? 0 : 1;
}
