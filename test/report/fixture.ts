/** ReportData fixture: 4 classes (one with a hostile label), 10 epochs, 4 mistakes with thumbnails, 1 with text. */
import sharp from 'sharp';
import { thumbnailDataUri } from '../../src/report/thumbnail.js';
import type { ReportData } from '../../src/report/types.js';

export const EVIL_LABEL = '<script>window.__injected = 1</script>';
export const EVIL_ID = '"><img src=x onerror="window.__injected = 2">';

function pattern(seed: number, w: number, h: number): Uint8Array {
  const px = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    const x = i % w;
    const y = Math.floor(i / w);
    px[i * 3] = (x * 8 + seed * 60) & 255;
    px[i * 3 + 1] = (y * 8 + seed * 30) & 255;
    px[i * 3 + 2] = ((x ^ y) * 4 + seed * 90) & 255;
  }
  return px;
}

export async function reportFixture(): Promise<ReportData> {
  const labels = ['cat', 'dog', 'bird', EVIL_LABEL];
  const confusion = [
    [40, 3, 1, 0],
    [4, 35, 2, 1],
    [0, 2, 28, 3],
    [1, 0, 4, 26],
  ];
  const perClass = labels.map((_, k) => {
    const tp = confusion[k]![k]!;
    const support = confusion[k]!.reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + row[k]!, 0);
    const precision = tp / predicted;
    const recall = tp / support;
    return { precision, recall, f1: (2 * precision * recall) / (precision + recall), support };
  });
  const raw = { width: 40, height: 30, channels: 3 as const, data: pattern(1, 40, 30) };
  const png = await sharp(Buffer.from(pattern(2, 96, 128)), { raw: { width: 96, height: 128, channels: 3 } })
    .png()
    .toBuffer();
  const thumbs = await Promise.all([
    thumbnailDataUri(raw),
    thumbnailDataUri(png),
    thumbnailDataUri(png, 32),
    thumbnailDataUri({ width: 8, height: 8, channels: 1, data: new Uint8Array(64).fill(200) }),
  ]);
  return {
    title: 'Pets <fine-tune> & friends',
    modelId: 'npm:nsfwjs/mobilenet_v2',
    createdAt: '2025-01-01T00:00:00.000Z',
    dataset: {
      name: 'pets & birds',
      splits: { train: 600, validation: 150 },
      perClass: Object.fromEntries(
        labels.map((l, k) => [l, { train: 150, validation: perClass[k]!.support }]),
      ),
    },
    settings: { strategy: 'linear-probe', epochs: 10, learningRate: 0.001, augment: false, seed: null },
    timing: {
      durations: { 'feature extraction': 12.5, training: 3.25, evaluation: 0.8 },
      throughput: { 'feature extraction': 60, training: 1840.5 },
    },
    history: Array.from({ length: 10 }, (_, i) => ({
      epoch: i + 1,
      trainLoss: 1.4 * Math.exp(-i / 3) + 0.1,
      valLoss: 1.5 * Math.exp(-i / 3.5) + 0.2,
      trainAccuracy: 0.5 + 0.45 * (1 - Math.exp(-i / 2.5)),
      valAccuracy: i === 3 ? undefined : 0.45 + 0.4 * (1 - Math.exp(-i / 3)),
    })),
    evaluation: { labels, confusion, perClass, accuracy: 0.86, macroF1: 0.85, logLoss: 0.41 },
    comparisons: [
      { name: 'transfer (mobilenet_v2)', accuracy: 0.86, macroF1: 0.85 },
      { name: 'raw pixels', accuracy: 0.41, macroF1: 0.38 },
      { name: 'from scratch', accuracy: 0.55, macroF1: 0.52 },
    ],
    candidates: [
      {
        model: 'mobilenet_v2',
        tensor: 'block_13_expand_relu',
        head: 'linear',
        dim: 576,
        cvAccuracy: 0.79,
        seconds: 1.2,
        chosen: false,
      },
      {
        model: 'mobilenet_v2',
        tensor: 'global_average_pooling2d',
        head: 'linear',
        dim: 1280,
        cvAccuracy: 0.86,
        seconds: 1.5,
        chosen: true,
      },
      {
        model: 'pixels',
        tensor: 'pixels_flat',
        head: 'mlp',
        dim: 3072,
        cvAccuracy: NaN,
        seconds: 0,
        skipped: 'time budget',
        chosen: false,
      },
    ],
    mistakes: [
      {
        id: 'img/cat/001.png',
        trueLabel: 'cat',
        predictedLabel: 'dog',
        confidence: 0.97,
        thumbnail: thumbs[0],
      },
      { id: EVIL_ID, trueLabel: EVIL_LABEL, predictedLabel: 'bird', confidence: 0.93, thumbnail: thumbs[1] },
      {
        id: 'img/bird/7.png',
        trueLabel: 'bird',
        predictedLabel: EVIL_LABEL,
        confidence: 0.9,
        thumbnail: thumbs[2],
      },
      {
        id: 'img/dog/3.png',
        trueLabel: 'dog',
        predictedLabel: 'cat',
        confidence: 0.88,
        thumbnail: thumbs[3],
        text: 'a snippet with </blockquote><b>markup</b>',
      },
    ],
  };
}
