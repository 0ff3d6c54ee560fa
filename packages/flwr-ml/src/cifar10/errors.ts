/** Errors of CIFAR-10 preparation. */

/** A corrupt, truncated or unexpected archive or dataset file, or a failed download. */
export class Cifar10Error extends Error {
  /** @param message - what is wrong and what to do. */
  constructor(message: string) {
    super(message);
    this.name = "Cifar10Error";
  }
}
