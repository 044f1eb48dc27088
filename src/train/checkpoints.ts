/**
 * The one checkpoint format of every run (image and text, every recipe): `<root>/checkpoint-<step>/`, as Hugging
 * Face Trainer lays it out, holding
 *   training_state.ckpt  weights and buffers, optimizer state, RNG state and data position (epoch, micro-batch)
 *   trainer_state.json   global_step, epoch, phase, best_metric, best_model_checkpoint, log_history and the options
 *                        the run trains with (`run`), which a resume must match
 * `step` counts optimizer steps over the whole run (all phases). Directories are written atomically
 * (writeDirAtomic); rotation keeps the newest `saveTotalLimit` and never deletes the best one.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { GraftError } from '../errors.js';
import { removeOrphanedTemps, writeDirAtomic } from '../util/atomic.js';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint-io.js';
import type { TrainingState } from './events.js';

export const STATE_FILE = 'training_state.ckpt';
export const TRAINER_STATE = 'trainer_state.json';
const CHECKPOINT_NAME = /^checkpoint-(\d+)$/;

/** One line of log_history (Hugging Face's keys: loss, learning_rate, eval_* …). */
export type LogEntry = { step: number; epoch: number } & Record<string, number>;

/** The options a run's trajectory depends on (JSON values); a resume with different ones is refused. */
export type RunOptions = Readonly<Record<string, unknown>>;

export interface TrainerStateJson {
  global_step: number;
  /** Epochs done in the current phase (fractional mid-epoch). */
  epoch: number;
  /** Index of the recipe phase in progress (0 for single-phase runs). */
  phase: number;
  best_metric: number | null;
  best_model_checkpoint: string | null;
  log_history: LogEntry[];
  run: RunOptions;
}

export interface SavedCheckpoint {
  path: string;
  state: TrainingState;
  trainer: TrainerStateJson;
}

export function checkpointPath(root: string, step: number): string {
  return join(root, `checkpoint-${step}`);
}

/** Writes `<root>/checkpoint-<trainer.global_step>/` atomically; returns its path. */
export async function writeCheckpoint(
  root: string,
  state: TrainingState,
  trainer: TrainerStateJson,
): Promise<string> {
  const path = checkpointPath(root, trainer.global_step);
  await writeDirAtomic(path, {
    [STATE_FILE]: encodeCheckpoint(state),
    [TRAINER_STATE]: `${JSON.stringify(trainer, null, 2)}\n`,
  });
  return path;
}

/** checkpoint-<step> directories in `root`, oldest first (temporaries and other names are ignored). */
export async function listCheckpoints(root: string): Promise<{ path: string; step: number }[]> {
  const names = await readdir(root).catch(() => [] as string[]);
  return names
    .flatMap((n) => {
      const m = CHECKPOINT_NAME.exec(n);
      return m ? [{ path: join(root, n), step: Number(m[1]) }] : [];
    })
    .sort((a, b) => a.step - b.step);
}

async function tryRead(path: string): Promise<SavedCheckpoint | undefined> {
  try {
    const state = decodeCheckpoint(await readFile(join(path, STATE_FILE)));
    const trainer = JSON.parse(await readFile(join(path, TRAINER_STATE), 'utf8')) as TrainerStateJson;
    const ok = state && typeof trainer.global_step === 'number' && typeof trainer.phase === 'number';
    return ok ? { path, state, trainer } : undefined;
  } catch {
    return undefined;
  }
}

/** A checkpoint directory (CORRUPT_MODEL naming it when it is not a complete, intact one). */
export async function readCheckpoint(path: string): Promise<SavedCheckpoint> {
  const c = await tryRead(path);
  if (!c) throw new GraftError('CORRUPT_MODEL', `'${path}' is not a readable graft checkpoint`, { path });
  return c;
}

/** The newest intact checkpoint in `root` (damaged ones are skipped), or undefined. */
export async function latestCheckpoint(root: string): Promise<SavedCheckpoint | undefined> {
  const list = await listCheckpoints(root);
  for (let i = list.length - 1; i >= 0; i--) {
    const c = await tryRead(list[i]!.path);
    if (c) return c;
  }
  return undefined;
}

/**
 * Keeps the newest `limit` checkpoints in `root` and deletes the rest, except `best` (Hugging Face's rotation:
 * the best checkpoint is moved next to the newest in the order before the oldest go; with limit 1 and a best
 * that is not the newest, two stay).
 */
export async function rotateCheckpoints(root: string, limit: number, best?: string): Promise<void> {
  const sorted = (await listCheckpoints(root)).map((c) => c.path);
  const at = best ? sorted.findIndex((p) => basename(p) === basename(best)) : -1;
  if (at >= 0)
    for (let i = at; i < sorted.length - 2; i++) [sorted[i], sorted[i + 1]] = [sorted[i + 1]!, sorted[i]!];
  const keep = limit === 1 && at >= 0 && at !== sorted.length - 1 ? 2 : limit;
  for (const old of sorted.slice(0, Math.max(0, sorted.length - keep)))
    await rm(old, { recursive: true, force: true });
}

/** Clears what checkpoint writes killed midway left in `root` (their temporary directories). */
export async function removeStaleCheckpointTemps(root: string): Promise<void> {
  await removeOrphanedTemps(root, 1);
}

/**
 * Where a run resumes: `from` is `true` (the newest intact checkpoint in `root`), a checkpoint-<step> directory,
 * or a directory of them. Nothing to resume from is a BAD_OPTION naming the directory, never a fresh start.
 */
export async function findResumeCheckpoint(from: true | string, root: string): Promise<SavedCheckpoint> {
  if (typeof from === 'string' && CHECKPOINT_NAME.test(basename(from))) return readCheckpoint(from);
  const dir = typeof from === 'string' ? from : root;
  const found = await latestCheckpoint(dir);
  if (!found)
    throw new GraftError(
      'BAD_OPTION',
      `nothing to resume from: no intact checkpoint-<step>/ in '${dir}'; drop --resume (resume) to train from the start`,
      { dir },
    );
  return found;
}

/** Refuses (BAD_OPTION) to resume from a checkpoint written by a run with other options. */
export function assertSameRun(saved: SavedCheckpoint, run: RunOptions): void {
  const before = saved.trainer.run ?? {};
  const keys = [...new Set([...Object.keys(before), ...Object.keys(run)])].sort();
  const show = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v));
  const diffs = keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(run[k]));
  if (diffs.length)
    throw new GraftError(
      'BAD_OPTION',
      `cannot resume from '${saved.path}': it was trained with ${diffs
        .map((k) => `${k}=${show(before[k])} where this run has ${show(run[k])}`)
        .join(', ')}; resume with the same options, or train into another directory`,
      { path: saved.path, options: diffs },
    );
}
