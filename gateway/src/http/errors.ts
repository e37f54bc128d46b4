// One table of error codes and HTTP statuses; every error a user sees says what was wrong.

/** ERROR_STATUS maps each code to its HTTP status. */
export const ERROR_STATUS = {
  'bad-request': 400,
  unauthenticated: 401,
  'bad-credentials': 401,
  forbidden: 403,
  'not-found': 404,
  'not-supported': 409,
  conflict: 409,
  'too-many-attempts': 429,
  'too-large': 413,
  busy: 429,
  'share-exceeded': 429,
  'device-error': 502,
  'stream-unavailable': 503,
  capacity: 503,
  internal: 500,
} as const;

/** ErrorCode is a key of the table. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** AppError is a domain error with a code from the table and the fields that explain it. */
export class AppError extends Error {
  override name = 'AppError';
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;
  /**
   * refusal marks an answer that denies the caller something (every 403, and the 404 of what she may not know of): the
   * error handler audits it. A 404 of something that is simply gone (a rotated segment) is not one.
   */
  readonly refusal: boolean;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, opts: { refusal?: boolean } = {}) {
    super(message);
    this.code = code;
    this.details = details;
    this.refusal = opts.refusal ?? (code === 'forbidden' || code === 'not-found');
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}
