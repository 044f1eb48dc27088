/**
 * What POST /predict accepts, turned into classifier inputs: raw image bytes (image/* or
 * application/octet-stream), multipart/form-data files (and `text` fields), or JSON
 * `{text}`, `{texts: [...]}`, `{image: b64}` or `{images: [b64, ...]}`.
 */
import type { FastifyRequest } from 'fastify';
import type { PredictInput } from '../predict/classifier.js';
import { HttpError } from './http-errors.js';

export interface InputLimits {
  bodyLimit: number;
  maxFiles: number;
}

const badInput = (message: string): HttpError => new HttpError(400, 'BAD_INPUT', message);
const emptyBody = (what: string): HttpError => new HttpError(400, 'EMPTY_BODY', `${what} is empty`);

export async function readInputs(req: FastifyRequest, limits: InputLimits): Promise<PredictInput[]> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (req.isMultipart()) return readMultipart(req, limits);
  const body: unknown = req.body;
  if (type.startsWith('image/') || type === 'application/octet-stream') {
    if (!(body instanceof Uint8Array) || body.length === 0) throw emptyBody('request body');
    return [body];
  }
  if (type === 'application/json') return fromJson(body, limits);
  if (!type) {
    throw new HttpError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'missing Content-Type: send image bytes (image/* or application/octet-stream), multipart/form-data or JSON',
    );
  }
  throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `unsupported Content-Type '${type}'`);
}

/**
 * A multipart body the parser cannot read (no boundary, a part cut off, malformed part headers) is the
 * client's fault: 400. Errors that already carry a 4xx status (size limits) keep it.
 */
function malformedMultipart(e: unknown): unknown {
  if (e instanceof HttpError) return e;
  const status = (e as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return e;
  const why = e instanceof Error ? e.message : String(e);
  return new HttpError(400, 'BAD_MULTIPART', `malformed multipart/form-data body: ${why}`);
}

async function readMultipart(req: FastifyRequest, limits: InputLimits): Promise<PredictInput[]> {
  try {
    return await readParts(req, limits);
  } catch (e) {
    throw malformedMultipart(e);
  }
}

async function readParts(req: FastifyRequest, limits: InputLimits): Promise<PredictInput[]> {
  const inputs: PredictInput[] = [];
  let total = 0;
  for await (const part of req.parts()) {
    if (part.type === 'file') {
      const bytes = await part.toBuffer();
      total += bytes.length;
      if (total > limits.bodyLimit) {
        throw new HttpError(
          413,
          'PAYLOAD_TOO_LARGE',
          `multipart files exceed the ${limits.bodyLimit}-byte limit`,
        );
      }
      if (bytes.length === 0) throw emptyBody(`file '${part.filename || part.fieldname}'`);
      inputs.push(bytes);
    } else if (part.fieldname === 'text' || part.fieldname === 'texts') {
      if (typeof part.value !== 'string' || part.value === '') throw emptyBody(`field '${part.fieldname}'`);
      inputs.push({ text: part.value });
    }
  }
  if (inputs.length === 0) throw badInput('multipart request has no files (and no text fields)');
  if (inputs.length > limits.maxFiles) throw tooMany(inputs.length, limits.maxFiles);
  return inputs;
}

const tooMany = (n: number, max: number): HttpError =>
  new HttpError(413, 'TOO_MANY_FILES', `${n} inputs in one request; the limit is ${max}`);

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function decodeBase64(value: unknown, where: string): Uint8Array {
  if (typeof value !== 'string') throw badInput(`${where} must be a base64 string`);
  const text = value.replace(/^data:[^,]*;base64,/, '').replace(/\s+/g, '');
  if (text === '') throw emptyBody(where);
  if (!BASE64.test(text) || text.length % 4 === 1) throw badInput(`${where} is not valid base64`);
  return Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
}

function list(value: unknown, key: string, maxFiles: number): unknown[] {
  if (!Array.isArray(value)) throw badInput(`'${key}' must be an array`);
  if (value.length === 0) throw badInput(`'${key}' is empty`);
  if (value.length > maxFiles) throw tooMany(value.length, maxFiles);
  return value;
}

function fromJson(body: unknown, limits: InputLimits): PredictInput[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badInput('JSON body must be an object: {"text": …}, {"texts": […]}, {"images": [base64, …]}');
  }
  const o = body as Record<string, unknown>;
  if ('text' in o) {
    if (typeof o['text'] !== 'string' || o['text'] === '')
      throw badInput("'text' must be a non-empty string");
    return [{ text: o['text'] }];
  }
  if ('texts' in o) {
    return list(o['texts'], 'texts', limits.maxFiles).map((t, i) => {
      if (typeof t !== 'string' || t === '') throw badInput(`texts[${i}] must be a non-empty string`);
      return { text: t };
    });
  }
  if ('image' in o) return [decodeBase64(o['image'], "'image'")];
  if ('images' in o) {
    return list(o['images'], 'images', limits.maxFiles).map((b, i) => decodeBase64(b, `images[${i}]`));
  }
  throw badInput('JSON body needs one of: "text", "texts", "image", "images"');
}

/** `?top=k`: a positive integer (clamped to the number of labels by the caller). */
export function parseTop(query: unknown): number {
  const raw = (query as Record<string, unknown> | undefined)?.['top'];
  if (raw === undefined) return 1;
  const k = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(k) || k < 1) throw badInput(`?top must be a positive integer, got '${String(raw)}'`);
  return k;
}
