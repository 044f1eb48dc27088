/** The server's routes: POST /predict, GET /health, GET /info, GET /metrics. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ClassScore, Prediction } from '../predict/classifier.js';
import { encodeInputs } from '../predict/inputs.js';
import { checkOutputWidth } from '../predict/model-dir.js';
import type { Batcher } from './batcher.js';
import { HttpError } from './http-errors.js';
import { PROMETHEUS_CONTENT_TYPE, type ServerMetrics } from './metrics.js';
import { modelInfo, type ServedModel } from './model.js';
import type { ResolvedServeOptions } from './options.js';
import { parseTop, readInputs } from './request-inputs.js';

export interface RouteContext {
  model: ServedModel;
  batcher: Batcher;
  metrics: ServerMetrics;
  options: ResolvedServeOptions;
}

export interface PredictResponse {
  predictions: Prediction[];
  model: string;
}

/** Rows of class probabilities → predictions with the `k` most probable classes each. */
export function rankRows(probs: Float32Array, labels: readonly string[], k: number): Prediction[] {
  const c = labels.length;
  const top = Math.max(1, Math.min(k, c));
  const out: Prediction[] = [];
  for (let i = 0; i * c < probs.length; i++) {
    const row = probs.subarray(i * c, (i + 1) * c);
    const order = [...row.keys()].sort((a, b) => row[b]! - row[a]!);
    const scores: ClassScore[] = order
      .slice(0, top)
      .map((j) => ({ label: labels[j]!, probability: row[j]! }));
    out.push({ ...scores[0]!, top: scores });
  }
  return out;
}

/** Runs `work` with an AbortSignal that fires after `ms` or when the client goes away. */
async function withDeadline<T>(
  ms: number,
  req: FastifyRequest,
  reply: FastifyReply,
  work: (s: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const onClose = (): void => {
    if (!reply.sent) controller.abort();
  };
  reply.raw.once('close', onClose);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new HttpError(503, 'TIMEOUT', `request took longer than ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([work(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
    reply.raw.off('close', onClose);
    void req;
  }
}

export function registerRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { model, batcher, metrics, options } = ctx;
  const labels = model.manifest.labels;
  const info = modelInfo(model);

  app.post('/predict', async (req, reply): Promise<PredictResponse> => {
    const elapsed = options.timeoutMs - reply.elapsedTime;
    return withDeadline(Math.max(1, elapsed), req, reply, async (signal) => {
      const k = parseTop(req.query);
      const inputs = await readInputs(req, { bodyLimit: options.bodyLimit, maxFiles: options.maxFiles });
      const feeds = await encodeInputs(inputs, model.manifest, model.dir, {
        pool: model.pool,
        maxPixels: options.maxPixels,
      });
      const probs = await batcher.submit(feeds, signal);
      checkOutputWidth(model.dir, probs.length, inputs.length, labels.length);
      metrics.predictions.inc({}, inputs.length);
      return { predictions: rankRows(probs, labels, k), model: model.id };
    });
  });

  app.get('/health', async () => ({ status: 'ok' }));

  app.get('/info', async () => info);

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', PROMETHEUS_CONTENT_TYPE);
    return metrics.render();
  });
}
