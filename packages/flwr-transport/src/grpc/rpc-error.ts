/** The wire-independent call error, re-exported where the gRPC code has always found it. */
export { Code, isServiceError, RpcError, type RpcErrorOptions } from "../wire/rpc-error.js";
