/**
 * The errors a request can end in, each with the HTTP status the app's error handler
 * answers: routes and the report engine throw them and never build error bodies.
 */

/** A request that breaks a parameter rule: 422 `{"message", "errors": {field: [...]}}`, one key per bad field. */
export class ValidationError extends Error {
  readonly statusCode = 422;
  constructor(readonly errors: Record<string, string[]>) {
    super('The given data was invalid.');
  }
}

/** A request the endpoint cannot take at all (an unknown widget type): 400 with the same shape as a 422. */
export class BadRequestError extends Error {
  readonly statusCode = 400;
  constructor(message: string, readonly errors: Record<string, string[]>) {
    super(message);
  }
}

/** Something outside the caller's scope, or nothing at all: 404 `{"message"}`, the same answer either way. */
export class NotFoundError extends Error {
  readonly statusCode = 404;
}

/** A caller without the role the endpoint needs: 403 `{"message"}`. */
export class ForbiddenError extends Error {
  readonly statusCode = 403;
}

/** The service is at a limit it keeps on purpose (exports in flight): 503 `{"message"}` with Retry-After. */
export class UnavailableError extends Error {
  readonly statusCode = 503;
  constructor(message: string, readonly retryAfterSec: number) {
    super(message);
  }
}

