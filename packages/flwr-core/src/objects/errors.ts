/**
 * Typed errors of the content-addressed object layer. All extend {@link ObjectError} and carry
 * the object ID concerned.
 */

/** Base class of object-layer errors. */
export class ObjectError extends Error {
  /** Stable machine-readable code. */
  readonly code: string;
  /** ID of the object concerned ("" when unknown). */
  readonly objectId: string;

  /**
   * @param code - stable code.
   * @param objectId - object concerned.
   * @param message - explanation.
   */
  constructor(code: string, objectId: string, message: string) {
    super(objectId ? `object ${objectId}: ${message}` : message);
    this.name = new.target.name;
    this.code = code;
    this.objectId = objectId;
  }
}

/** The SHA-256 of an object's bytes is not the ID it was stored or sent under. */
export class ObjectIdMismatchError extends ObjectError {
  /** The ID computed from the bytes. */
  readonly actualId: string;

  /**
   * @param expectedId - the ID the object was given under.
   * @param actualId - the SHA-256 of its bytes.
   */
  constructor(expectedId: string, actualId: string) {
    super(
      "object-id-mismatch",
      expectedId,
      `content hashes to ${actualId}; the object is corrupt or was stored under the wrong ID`,
    );
    this.actualId = actualId;
  }
}

/** The head of an object (`<type> <child ids> <body length>`) cannot be parsed. */
export class MalformedObjectHeadError extends ObjectError {
  /** @param objectId - object concerned. @param message - what is wrong. */
  constructor(objectId: string, message: string) {
    super("object-head-malformed", objectId, `malformed object head: ${message}`);
  }
}

/** The body length announced in the head differs from the actual body length. */
export class ObjectBodyLengthError extends ObjectError {
  /** @param objectId - object. @param expected - length in the head. @param actual - real length. */
  constructor(objectId: string, expected: number, actual: number) {
    super(
      "object-body-length",
      objectId,
      `head announces a ${expected}-byte body but the body has ${actual} bytes (truncated or padded?)`,
    );
  }
}

/** The object type in the head is not one of the seven Flower object types. */
export class UnknownObjectTypeError extends ObjectError {
  /** @param objectId - object. @param type - the unknown type. */
  constructor(objectId: string, type: string) {
    super(
      "object-type-unknown",
      objectId,
      `unknown object type ${JSON.stringify(type)}; expected Message, RecordDict, ArrayRecord, Array, ArrayChunk, ConfigRecord or MetricRecord`,
    );
  }
}

/** An object needed to inflate a tree is absent. */
export class MissingObjectError extends ObjectError {
  /** The object that references the missing one ("" for the root). */
  readonly parentId: string;

  /** @param objectId - missing object. @param parentId - object that references it. */
  constructor(objectId: string, parentId: string) {
    super(
      "object-missing",
      objectId,
      parentId
        ? `missing (referenced by ${parentId}); pull it before inflating`
        : "missing root object",
    );
    this.parentId = parentId;
  }
}

/** An object's body is not valid for its type, or its children do not fit the body. */
export class InvalidObjectContentError extends ObjectError {
  /** @param objectId - object. @param message - what is wrong. */
  constructor(objectId: string, message: string) {
    super("object-content-invalid", objectId, message);
  }
}
