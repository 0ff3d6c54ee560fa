/**
 * Validation shared by training and evaluation options.
 */

/** Invalid training or evaluation options. */
export class TrainingOptionsError extends RangeError {
  /** @param message - what is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "TrainingOptionsError";
  }
}

/** Checks a positive integer option. */
export function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new TrainingOptionsError(`${name} must be a positive integer, got ${value}`);
  return value;
}
