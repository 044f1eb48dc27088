/** Every failure graft reports on purpose is a GraftError with one of these codes. */
export type GraftErrorCode =
  | 'MODEL_NOT_FOUND'
  | 'SOURCE_AMBIGUOUS'
  | 'UNSUPPORTED_OP'
  | 'SHAPE_MISMATCH'
  | 'CORRUPT_MODEL'
  | 'BAD_INPUT'
  | 'BAD_OPTION'
  | 'IO_ERROR'
  | 'NETWORK_ERROR'
  | 'AUTH_ERROR'
  | 'CHECKSUM_MISMATCH'
  | 'OFFLINE_MISSING'
  | 'RUNTIME_ERROR'
  | 'CANCELLED';

/** Process exit codes for the CLI, one per error code (documented in the README). */
export const EXIT_CODES: Readonly<Record<GraftErrorCode, number>> = {
  BAD_OPTION: 2,
  BAD_INPUT: 3,
  MODEL_NOT_FOUND: 4,
  SOURCE_AMBIGUOUS: 4,
  CORRUPT_MODEL: 5,
  CHECKSUM_MISMATCH: 5,
  UNSUPPORTED_OP: 6,
  SHAPE_MISMATCH: 7,
  IO_ERROR: 8,
  NETWORK_ERROR: 9,
  AUTH_ERROR: 9,
  OFFLINE_MISSING: 9,
  RUNTIME_ERROR: 10,
  CANCELLED: 130,
};

export type ErrorContext = Readonly<Record<string, unknown>>;

export class GraftError extends Error {
  readonly code: GraftErrorCode;
  readonly context: ErrorContext;

  constructor(
    code: GraftErrorCode,
    message: string,
    context: ErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GraftError';
    this.code = code;
    this.context = context;
  }

  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

export function isGraftError(e: unknown, code?: GraftErrorCode): e is GraftError {
  return e instanceof GraftError && (code === undefined || e.code === code);
}

/** Throws BAD_INPUT/BAD_OPTION style errors in one line at call sites: `check(ok, 'BAD_INPUT', msg)`. */
export function check(
  condition: unknown,
  code: GraftErrorCode,
  message: string,
  context?: ErrorContext,
): asserts condition {
  if (!condition) throw new GraftError(code, message, context);
}
