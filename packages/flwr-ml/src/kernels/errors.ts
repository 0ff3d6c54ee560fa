/** Errors raised by this package's kernels. */

/**
 * A kernel was called with a configuration it does not implement; raised
 * instead of returning a wrong result.
 */
export class UnsupportedKernelConfigError extends Error {
  /**
   * @param kernel - the kernel name, e.g. `Conv2DBackpropFilter`.
   * @param what - the unsupported part of the configuration.
   */
  constructor(kernel: string, what: string) {
    super(
      `flwr-ml kernel ${kernel} does not support ${what}; set FLWR_TFJS_BACKEND=cpu to use the stock implementation`,
    );
    this.name = "UnsupportedKernelConfigError";
  }
}
