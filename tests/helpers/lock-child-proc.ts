/**
 * Drives tests/helpers/lock-child.ts: one of our clients in another process,
 * a command per line, a JSON answer per command.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { REPO } from './server-process.js';

/** A lock-child.ts process: send a command, get its JSON answer. */
export class LockChild {
  private readonly lines: string[] = [];
  private readonly waiting: Array<(l: string) => void> = [];
  readonly child: ChildProcess;
  constructor(url: string, file: string) {
    this.child = spawn(process.execPath, [path.join(REPO, 'dist/tests/helpers/lock-child.js'), url, file], { stdio: ['pipe', 'pipe', 'inherit'] });
    readline.createInterface({ input: this.child.stdout! }).on('line', (l) => {
      const w = this.waiting.shift();
      if (w) w(l);
      else this.lines.push(l);
    });
  }
  next(): Promise<Record<string, unknown>> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(JSON.parse(l));
    return new Promise((r) => this.waiting.push((x) => r(JSON.parse(x))));
  }
  send(cmd: string): Promise<Record<string, unknown>> {
    this.child.stdin!.write(cmd + '\n');
    return this.next();
  }
  async exit(): Promise<number | null> {
    const done = new Promise<number | null>((r) => this.child.once('exit', r));
    this.child.stdin!.end('exit\n');
    return done;
  }
}

