/** One problem with one field of the input, named by a JSON-pointer-like path (e.g. `ageRange.min`). */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/** Base of every rule the domain enforces; adapters map the subclasses to protocol answers. */
export abstract class DomainError extends Error {
  abstract readonly kind: 'validation' | 'notFound' | 'illegalState' | 'preconditionFailed' | 'forbidden';
}

/** The input is malformed: nothing was decided. */
export class ValidationError extends DomainError {
  readonly kind = 'validation';
  constructor(
    readonly errors: readonly FieldError[],
    message = 'The request is not valid.',
  ) {
    super(message);
    this.name = 'ValidationError';
  }
}

/** The thing the command addresses does not exist. */
export class NotFoundError extends DomainError {
  readonly kind = 'notFound';
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** The command is well-formed but the current state forbids it. */
export class IllegalStateError extends DomainError {
  readonly kind = 'illegalState';
  constructor(
    message: string,
    readonly currentStatus?: string,
  ) {
    super(message);
    this.name = 'IllegalStateError';
  }
}

/** The caller is known but may not do this (not the place's owner, not an approved editor, not an admin). */
export class ForbiddenError extends DomainError {
  readonly kind = 'forbidden';
  constructor(message: string) {
    super(message);
    this.name = 'ForbiddenError';
  }
}

/** The caller acted on a version of the state that is no longer current. */
export class PreconditionFailedError extends DomainError {
  readonly kind = 'preconditionFailed';
  constructor(
    message: string,
    readonly currentVersion: number,
  ) {
    super(message);
    this.name = 'PreconditionFailedError';
  }
}

/** Thrown when an Idempotency-Key is sent again with a different request. */
export class IdempotencyKeyReuseError extends Error {
  constructor(readonly idempotencyKey: string) {
    super('This Idempotency-Key was already used with a different request.');
    this.name = 'IdempotencyKeyReuseError';
  }
}

/** Why an event cannot be used; the projection dead-letters it with this reason. */
export class PoisonEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoisonEventError';
  }
}
