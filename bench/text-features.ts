/**
 * Text feature extraction throughput, 6-layer d=384 BERT-like encoder + CLS pooling, batch 32, 128 tokens:
 * graft's TextFeatureExtractor on raw texts (tokenisation, batching, no cache) vs a raw ort.InferenceSession on
 * the same pooled graph with pre-tokenised int64 tensors made before timing. Interleaved rounds, medians.
 *
 * Usage: node --import tsx bench/text-features.ts [--rounds 5] [--batches 4] [--threads 2] [--encoder <dir>]
 */
import * as ort from 'onnxruntime-node';
import { encodeModel } from '../src/onnx/io.js';
import { encodeTexts, loadTextEncoder, TEXT_FEATURES, TextFeatureExtractor } from '../src/text/index.js';
import { arg, benchTexts, encoderDir, median } from './text-common.js';

const rounds = arg('rounds', 5);
const batches = arg('batches', 4);
const threads = arg('threads', 2);
const B = 32;
const T = 128;

const dir = encoderDir();
const encoder = await loadTextEncoder(`file:${dir}`);
const fx = await TextFeatureExtractor.fromEncoder(encoder, {
  pooling: 'cls',
  maxLength: T,
  batchSize: B,
  cacheDir: false,
  session: { threads },
});
const texts = benchTexts(B * batches, 160);
const examples = texts.map((t, i) => ({ id: String(i), label: 0, source: t }));
const raw = await ort.InferenceSession.create(encodeModel(fx.pooledModel), {
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  executionProviders: ['cpu'],
});
const feeds = Array.from({ length: batches }, (_, b) => {
  const enc = encodeTexts(encoder.tokenizer, texts.slice(b * B, (b + 1) * B), { maxLength: T });
  if (enc.input_ids.shape[1] !== T)
    throw new Error(`texts tokenise to ${enc.input_ids.shape[1]} < ${T} tokens`);
  const t = (x: typeof enc.input_ids) => new ort.Tensor('int64', x.data, [...x.shape]);
  return {
    input_ids: t(enc.input_ids),
    attention_mask: t(enc.attention_mask),
    token_type_ids: t(enc.token_type_ids),
  };
});

async function timeGraft(): Promise<number> {
  const t0 = performance.now();
  const set = await fx.extract(examples);
  if (set.extracted !== texts.length) throw new Error('cache was used');
  return texts.length / ((performance.now() - t0) / 1000);
}
async function timeRaw(): Promise<number> {
  const t0 = performance.now();
  for (const f of feeds) await raw.run(f, [TEXT_FEATURES]);
  return texts.length / ((performance.now() - t0) / 1000);
}

await timeGraft();
await timeRaw();
const g: number[] = [];
const r: number[] = [];
const ratios: number[] = [];
for (let i = 0; i < rounds; i++) {
  // alternate which side goes first so drifting machine load hits both alike
  let gi: number;
  let ri: number;
  if (i % 2) {
    ri = await timeRaw();
    gi = await timeGraft();
  } else {
    gi = await timeGraft();
    ri = await timeRaw();
  }
  g.push(gi);
  r.push(ri);
  ratios.push(gi / ri);
  console.log(
    `round ${i + 1}: graft ${gi.toFixed(1)} seq/s, raw ORT ${ri.toFixed(1)} seq/s, ratio ${(gi / ri).toFixed(3)}`,
  );
}
console.log(`encoder ${dir}, batch ${B}, ${T} tokens, ${threads} threads, ${texts.length} texts per round`);
console.log(`graft TextFeatureExtractor: ${median(g).toFixed(1)} seq/s (median)`);
console.log(`raw ort.InferenceSession (pre-tokenised): ${median(r).toFixed(1)} seq/s (median)`);
console.log(`ratio graft/raw: median of paired ratios ${median(ratios).toFixed(3)} (goal ≥ 0.9)`);
await fx.release();
await raw.release();
