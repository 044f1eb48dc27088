/** Progress of a feature extraction run, shared by the image and text extractors. */

export interface ExtractProgress {
  done: number;
  total: number;
  /** Examples served from the cache so far. */
  cached: number;
  /** Examples per second through the backbone. */
  rate: number;
}

/**
 * Reports extraction progress: cached rows count as done from the start; the rate counts only rows run through
 * the model. Returns `advance(rows)`, to call after each batch.
 */
export function extractionProgress(
  total: number,
  cached: number,
  onProgress?: (p: ExtractProgress) => void,
): (rows: number) => void {
  const start = performance.now();
  let done = 0;
  const report = () =>
    onProgress?.({
      done: cached + done,
      total,
      cached,
      rate: done / Math.max(1e-3, (performance.now() - start) / 1000),
    });
  report();
  return (rows) => {
    done += rows;
    report();
  };
}
