/** Every error the server answers with becomes `{error: {code, message}}` with the right HTTP status. */
import { GraftError, type GraftErrorCode } from '../errors.js';

export interface ErrorBody {
  error: { code: string; message: string };
}

/** An error raised by the HTTP layer itself (empty body, wrong content type, timeout…). */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const GRAFT_STATUS: Partial<Record<GraftErrorCode, number>> = {
  BAD_INPUT: 400,
  BAD_OPTION: 400,
  SHAPE_MISMATCH: 400,
  UNSUPPORTED_OP: 501,
  CANCELLED: 503,
};

/** fastify / @fastify/multipart error codes → our codes. */
const FRAMEWORK_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_REQ_FILE_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_FILES_LIMIT: 'TOO_MANY_FILES',
  FST_PARTS_LIMIT: 'TOO_MANY_PARTS',
  FST_FIELDS_LIMIT: 'TOO_MANY_FIELDS',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'EMPTY_BODY',
  FST_ERR_CTP_INVALID_JSON_BODY: 'BAD_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_MP_PREMATURE_CLOSE: 'BAD_REQUEST',
  FST_PROTO_VIOLATION: 'BAD_REQUEST',
};

interface FrameworkError {
  statusCode?: number;
  code?: string;
  message?: string;
}

export interface Answer {
  statusCode: number;
  body: ErrorBody;
}

export function errorAnswer(e: unknown): Answer {
  const answer = (statusCode: number, code: string, message: string): Answer => ({
    statusCode,
    body: { error: { code, message } },
  });
  if (e instanceof HttpError) return answer(e.statusCode, e.code, e.message);
  if (e instanceof GraftError) return answer(GRAFT_STATUS[e.code] ?? 500, e.code, e.message);
  const fe = (typeof e === 'object' && e !== null ? e : {}) as FrameworkError;
  const message = fe.message ?? String(e);
  if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e instanceof SyntaxError) {
    return answer(400, 'BAD_JSON', `request body is not valid JSON: ${message}`);
  }
  const status = fe.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code =
      (fe.code && FRAMEWORK_CODES[fe.code]) ?? (status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST');
    const statusCode = code === 'UNSUPPORTED_MEDIA_TYPE' ? 415 : status;
    return answer(statusCode, code, message);
  }
  if (typeof status === 'number' && status >= 500) return answer(status, 'INTERNAL', message);
  return answer(500, 'INTERNAL', `internal error: ${message.split('\n')[0]}`);
}

export const notFound = (method: string, url: string): Answer => ({
  statusCode: 404,
  body: {
    error: {
      code: 'NOT_FOUND',
      message: `no route ${method} ${url.split('?')[0]}; try POST /predict, GET /health, /info or /metrics`,
    },
  },
});
