/**
 * The origin's failures, one class each, turned into HTTP statuses in one
 * place (origin/http/respond.ts). `code` is stable for clients to switch on;
 * `message` says what failed and what to do.
 */
export class OriginError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class BadRequestError extends OriginError {
  constructor(message: string, options?: ErrorOptions) {
    super(400, "bad_request", message, options);
  }
}

export class UnauthorizedError extends OriginError {
  constructor(message: string, options?: ErrorOptions) {
    super(401, "unauthorized", message, options);
  }
}

export class ForbiddenError extends OriginError {
  constructor(message: string, options?: ErrorOptions) {
    super(403, "forbidden", message, options);
  }
}

/** The account is blocked by an admin: 403 with its own code, so that a client can tell it from a missing right. */
export class BlockedError extends OriginError {
  constructor(message: string, options?: ErrorOptions) {
    super(403, "blocked", message, options);
  }
}

export class NotFoundError extends OriginError {
  constructor(message: string, options?: ErrorOptions) {
    super(404, "not_found", message, options);
  }
}

/** An admin deleted the page: 410 with its own code, so that a client can tell it from a page never written. */
export class PageDeletedError extends OriginError {
  constructor(message: string, options?: ErrorOptions) {
    super(410, "deleted", message, options);
  }
}

export class ConflictError extends OriginError {
  constructor(message: string, options?: ErrorOptions) {
    super(409, "conflict", message, options);
  }
}

export class PayloadTooLargeError extends OriginError {
  constructor(message: string, options?: ErrorOptions) {
    super(413, "payload_too_large", message, options);
  }
}

export class UnsupportedMediaTypeError extends OriginError {
  constructor(message: string, options?: ErrorOptions) {
    super(415, "unsupported_media_type", message, options);
  }
}

/** Well-formed, but the origin will not take it: a page over its size limit. */
export class UnprocessableError extends OriginError {
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(422, code, message, options);
  }
}

export class TooManyRequestsError extends OriginError {
  constructor(
    message: string,
    /** Answered as `Retry-After`: when the client may try again. */
    readonly retryAfterSeconds: number,
    options?: ErrorOptions,
  ) {
    super(429, "too_many_requests", message, options);
  }
}

/**
 * The page was moved (renamed): the name is an alias of the page now called
 * `to`. 301 with its own code and `to` in the body, so that a client follows
 * it (the origin also sends a Location for the page's own read).
 */
export class PageMovedError extends OriginError {
  constructor(
    readonly from: string,
    readonly to: string,
  ) {
    super(301, "moved", `${from} was moved to ${to}: read, edit and link it under its new name`);
  }
}
