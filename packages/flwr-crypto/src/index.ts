/**
 * Public API of @flwr-ts/crypto: TLS certificates for the SuperLink,
 * SuperNode key pairs in OpenSSH format, key I/O, and Flower's signed
 * request metadata (signer, verifier, replay cache), interoperable with
 * Python Flower 1.29.
 * @packageDocumentation
 */
export {
  type GenerateAuthKeysOptions,
  type GeneratedAuthKey,
  generateAuthKeys,
} from "./auth-keys.js";
export {
  type CertificateKeyType,
  DEFAULT_CERT_HOSTS,
  type GenerateCertificatesOptions,
  type GeneratedCertificates,
  generateCertificates,
} from "./certificates.js";
export { type CliIo, runCli, USAGE } from "./cli-main.js";
export {
  assertSuperNodeKey,
  type CurveInfo,
  describeKeyType,
  type EcKeyPair,
  generateEcKeyPair,
  NIST_CURVES,
  type NistCurve,
  nistCurveOf,
  publicKeyToPem,
  SUPERNODE_CURVES,
  type SuperNodeCurve,
  spkiDerFromPoint,
  uncompressedPoint,
} from "./ec-keys.js";
export { CryptoError, type CryptoErrorCode } from "./errors.js";
export {
  type KeySource,
  loadPrivateKey,
  loadPublicKey,
  parsePrivateKey,
  parsePublicKey,
  readKeyFile,
} from "./key-io.js";
export {
  formatOpenSshPrivateKey,
  formatOpenSshPublicKey,
  openSshPublicBlob,
  parseOpenSshPrivateKey,
  parseOpenSshPublicKey,
} from "./openssh.js";
export {
  CLIENT_AUTH_OID,
  type GeneratedOperatorCertificate,
  type GenerateOperatorCertificateOptions,
  generateOperatorCertificate,
  OPERATOR_NAME_PATTERN,
  OPERATOR_OU,
  operatorNameOfCertificate,
} from "./operator-certificates.js";
export { decodePem, encodePem, type PemBlock } from "./pem.js";
export { ReplayCache, type ReplayCacheOptions } from "./replay-cache.js";
export {
  type AuthMetadata,
  PUBLIC_KEY_HEADER,
  RequestSigner,
  SIGNATURE_HEADER,
  signTimestamp,
  TIMESTAMP_HEADER,
} from "./request-signature.js";
export {
  AUTH_MESSAGES,
  MAX_TIMESTAMP_DIFF_MICROS,
  type MetadataInput,
  MIN_TIMESTAMP_DIFF_MICROS,
  type ReceivedAuthMetadata,
  SignatureVerifier,
  type SignatureVerifierOptions,
  SYSTEM_TIME_TOLERANCE_SECONDS,
  TIMESTAMP_TOLERANCE_SECONDS,
  type VerificationFailureReason,
  type VerificationResult,
} from "./signature-verifier.js";
export { formatFlowerTimestamp, parseFlowerTimestamp } from "./timestamp.js";
