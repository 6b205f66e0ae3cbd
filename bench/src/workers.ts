// Child processes that host one contender each, seen from the orchestrator: a Node worker
// (worker.ts through scripts/run.mjs, IPC channel) or the Python one (torch.py, JSON lines).
// Both answer the same requests (types.ts) one at a time.

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Reply, Request } from './types.js';

const REPLY_PREFIX = '@@bench ';
const TAIL_CHARS = 4000;

export class WorkerError extends Error {
  override name = 'WorkerError';
}

/** One contender's process. */
export class WorkerProcess {
  private waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void } | undefined;
  private tail = '';
  private exited: string | undefined;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    private readonly kind: 'ipc' | 'lines',
  ) {
    const keep = (chunk: Buffer): void => {
      this.tail = (this.tail + chunk.toString()).slice(-TAIL_CHARS);
    };
    child.stderr?.on('data', keep);
    if (kind === 'ipc') {
      child.stdout?.on('data', keep);
      child.on('message', (m: Reply) => this.deliver(m));
    } else {
      let buf = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        buf += chunk.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.startsWith(REPLY_PREFIX)) this.deliver(JSON.parse(line.slice(REPLY_PREFIX.length)) as Reply);
          else keep(Buffer.from(line + '\n'));
        }
      });
    }
    child.on('error', (e) => this.fail(`could not start: ${e.message}`));
    child.on('exit', (code, signal) => this.fail(`exited (${signal ?? `code ${code}`})`));
  }

  /** A Node worker: `node [nodeFlags] scripts/run.mjs bench/src/worker.ts <name>`, with `env` added to this process's. */
  static node(name: string, benchDir: string, nodeFlags: string[] = [], env: Record<string, string> = {}): WorkerProcess {
    const child = spawn(
      process.execPath,
      [...nodeFlags, join(benchDir, '..', 'scripts', 'run.mjs'), join(benchDir, 'src', 'worker.ts'), name],
      { cwd: benchDir, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...process.env, ...env, CHAINRULE_BENCH_DIR: benchDir } },
    );
    return new WorkerProcess(name, child, 'ipc');
  }

  /** The PyTorch worker: `python bench/src/torch.py`. */
  static python(name: string, python: string, benchDir: string): WorkerProcess {
    // torch.set_num_threads does not reach OpenBLAS's own thread pool: without these, Debian's
    // PyTorch ran its "1 thread" products on both cores (113 against 81 GFLOP/s at 256³), and
    // its BLAS threads kept the second core busy into the next contender's turn.
    const threads = process.env.BENCH_TORCH_THREADS ?? '1';
    const child = spawn(python, ['-u', join(benchDir, 'src', 'torch.py')], {
      cwd: benchDir,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1', OPENBLAS_NUM_THREADS: threads, OMP_NUM_THREADS: threads, MKL_NUM_THREADS: threads },
    });
    return new WorkerProcess(name, child, 'lines');
  }

  private deliver(reply: Reply): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.resolve(reply);
  }

  private fail(reason: string): void {
    this.exited ??= reason;
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(new WorkerError(`${this.name} ${reason}${this.outputHint()}`));
  }

  private outputHint(): string {
    const lines = this.tail.trim().split('\n').filter((l) => l.trim() !== '');
    return lines.length === 0 ? '' : `; last output: ${lines.slice(-3).join(' | ')}`;
  }

  get alive(): boolean {
    return this.exited === undefined;
  }

  /** Sends one request and waits for its reply; kills the process on timeout. */
  request(req: Request, timeoutMs: number): Promise<Reply> {
    if (this.exited !== undefined) return Promise.reject(new WorkerError(`${this.name} ${this.exited}`));
    if (this.waiting) return Promise.reject(new WorkerError(`${this.name}: request while another is pending`));
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        this.kill();
        reject(new WorkerError(`${this.name}: no reply to "${req.type}" within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.waiting = {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      if (this.kind === 'ipc') this.child.send(req);
      else this.child.stdin!.write(JSON.stringify(req) + '\n');
    });
  }

  kill(): void {
    if (this.exited === undefined) this.child.kill('SIGKILL');
  }

  /** Asks the worker to exit, and kills it if it has not within a second. */
  async close(): Promise<void> {
    if (this.exited !== undefined) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      if (this.kind === 'ipc') this.child.send({ type: 'exit' } satisfies Request);
      else this.child.stdin!.end(JSON.stringify({ type: 'exit' } satisfies Request) + '\n');
    } catch {
      // already gone
    }
    const timer = setTimeout(() => this.kill(), 1000);
    await gone;
    clearTimeout(timer);
  }
}
