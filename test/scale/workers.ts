/** `graft worker` child processes for the scale-out tests, with their JSON-line events collected. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerEvent } from '../../src/scale/worker.js';

const CLI = fileURLToPath(new URL('./child-graft.ts', import.meta.url));

export class WorkerProcess {
  readonly events: WorkerEvent[] = [];
  private readonly listeners = new Set<() => void>();
  private stderr = '';
  readonly exited: Promise<void>;

  constructor(
    readonly child: ChildProcess,
    readonly name: string,
  ) {
    let buffered = '';
    child.stderr!.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith('{"type"')) this.events.push(JSON.parse(line) as WorkerEvent);
        else this.stderr += `${line}\n`;
      }
      for (const l of this.listeners) l();
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** Resolves with the first event matching `pred` (past or future). */
  waitFor(pred: (e: WorkerEvent) => boolean, timeoutMs = 60_000): Promise<WorkerEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.events.find(pred);
        if (!hit) return;
        this.listeners.delete(check);
        clearTimeout(timer);
        resolve(hit);
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`${this.name}: no matching event in ${timeoutMs} ms; stderr:\n${this.stderr}`));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  completedJobs(): string[] {
    return this.events.flatMap((e) => (e.type === 'completed' ? [e.job] : []));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}

export function startWorkerProcess(url: string, name: string, extra: string[] = []): WorkerProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI, 'worker', '--queue', url, '--threads', '1', ...extra],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return new WorkerProcess(child, name);
}
