/**
 * Raw HTTP/1.1 over a socket, for requests no well-behaved client sends: stalled bodies, lying lengths,
 * headers sent a byte at a time. Every read gives up after `giveUpMs` (a hang fails the test, it does not
 * stall the suite).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Milliseconds from the first byte sent to the socket closing or the answer completing. */
  ms: number;
}

export interface RawOptions {
  /** Bytes written one piece at a time, `gapMs` apart (slowloris). */
  pieces?: readonly (string | Uint8Array)[];
  gapMs?: number;
  giveUpMs?: number;
}

function parseAnswer(text: string, ms: number): RawAnswer | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const body = text.slice(end + 4);
  const length = headers['content-length'];
  if (length !== undefined && Buffer.byteLength(body) < Number(length)) return undefined;
  return { status: Number(statusLine!.split(' ')[1]), headers, body, ms };
}

/** Sends `request` (then `pieces`) on a fresh connection and resolves with the first complete answer. */
export function rawRequest(
  port: number,
  request: string | Uint8Array,
  options: RawOptions = {},
): Promise<RawAnswer> {
  const giveUp = options.giveUpMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    const t0 = performance.now();
    let text = '';
    let done = false;
    const finish = (a: RawAnswer | Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (a instanceof Error) reject(a);
      else resolve(a);
    };
    const timer = setTimeout(
      () => finish(new Error(`no answer within ${giveUp} ms (got ${JSON.stringify(text.slice(0, 200))})`)),
      giveUp,
    );
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const a = parseAnswer(text, performance.now() - t0);
      if (a) finish(a);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const a = parseAnswer(text, performance.now() - t0);
      finish(a ?? new Error(`connection closed without an answer (${JSON.stringify(text.slice(0, 200))})`));
    });
    socket.write(request);
    let i = 0;
    const next = (): void => {
      if (done || socket.destroyed || !options.pieces || i >= options.pieces.length) return;
      socket.write(options.pieces[i++]!);
      setTimeout(next, options.gapMs ?? 200);
    };
    setTimeout(next, options.gapMs ?? 200);
  });
}

const BIN = fileURLToPath(new URL('../../bin/graft.js', import.meta.url));

export interface RunningServe {
  child: ChildProcess;
  url: string;
  port: number;
  /** The process that serves (graft serve runs its server in a child node). */
  serverPid: () => number;
  stop: () => Promise<void>;
}

/** Starts `graft serve <dir> --port 0 …args` through bin/graft.js and waits for its "listening" line. */
export async function startGraftServe(dir: string, args: readonly string[] = []): Promise<RunningServe> {
  const child = spawn(process.execPath, [BIN, 'serve', dir, '--port', '0', '--threads', '1', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`graft serve exited (${code}) before listening: ${err}`)));
  });
  const serverPid = (): number => {
    const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim();
    return Number(children.split(/\s+/)[0] || child.pid);
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  return { child, url, port: Number(new URL(url).port), serverPid, stop };
}

/** Resident set size of a process in bytes (Linux). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}
