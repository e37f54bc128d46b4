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

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}
