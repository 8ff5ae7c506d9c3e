/**
 * The control socket `nfs-localio status` talks to: a Unix stream socket in
 * the server's state directory, `control-<port>.sock`, mode 0600 (only the
 * server's user — or root — may ask). One request per connection, a short
 * line ("status"); the answer is one JSON document. Input is bounded; the
 * socket is removed on close, and a stale one (nobody listening) is replaced.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { errnoError } from '../util/errno.js';

const MAX_REQUEST = 64;

export function controlSocketPath(stateDir: string, port: number): string {
  return path.join(stateDir, `control-${port}.sock`);
}

/** Every control socket in a state directory (one per running server port). */
export function listControlSockets(stateDir: string): string[] {
  try {
    return fs
      .readdirSync(stateDir)
      .filter((n) => /^control-\d+\.sock$/.test(n))
      .map((n) => path.join(stateDir, n));
  } catch {
    return [];
  }
}

function alive(p: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(p);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export class ControlServer {
  private constructor(
    private readonly server: net.Server,
    readonly path: string,
  ) {}

  static async start(p: string, answer: (request: string) => unknown): Promise<ControlServer> {
    if (fs.existsSync(p)) {
      if (await alive(p)) throw errnoError('EADDRINUSE', `${p}: another server answers there`);
      fs.rmSync(p, { force: true });
    }
    const server = net.createServer((sock) => {
      let buf = '';
      sock.setEncoding('utf8');
      sock.on('error', () => undefined);
      sock.on('data', (d: string) => {
        buf += d;
        if (buf.length > MAX_REQUEST) return sock.destroy();
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        const req = buf.slice(0, nl).trim();
        let body: string;
        try {
          body = JSON.stringify(answer(req));
        } catch (e) {
          body = JSON.stringify({ error: (e as Error).message });
        }
        sock.end(body + '\n');
      });
    });
    server.unref();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, () => {
        server.off('error', reject);
        resolve();
      });
    });
    fs.chmodSync(p, 0o600);
    return new ControlServer(server, p);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => {
        fs.rmSync(this.path, { force: true });
        resolve();
      });
    });
  }
}

/** Ask a control socket; rejects when nobody answers. */
export function askControl(p: string, request = 'status', timeoutMs = 5000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const s = net.connect(p);
    let out = '';
    const t = setTimeout(() => s.destroy(new Error(`${p}: no answer in ${timeoutMs} ms`)), timeoutMs);
    s.setEncoding('utf8');
    s.on('connect', () => s.write(request + '\n'));
    s.on('data', (d: string) => {
      out += d;
      if (out.length > 16 << 20) s.destroy(new Error('answer too long'));
    });
    s.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    s.on('end', () => {
      clearTimeout(t);
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`${p}: not a status answer`));
      }
    });
  });
}
