/**
 * Small pieces shared by the in-repo cloud emulators (Slack, Anthropic): waiting on recorded
 * state without sleeping, and reading request bodies.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';

interface Waiter {
  probe(): void;
  fail(err: Error): void;
}

/**
 * Promises that resolve once `probe()` returns something other than `undefined`. Whoever changes
 * the state calls `notify()`; nothing polls.
 */
export class Waiters {
  private readonly pending = new Set<Waiter>();

  /**
   * `pollMs` also re-checks on a timer, for conditions that depend on state outside the
   * emulator (for example what a client-side listener has seen).
   */
  wait<T>(probe: () => T | undefined, timeoutMs: number, what: () => string, pollMs = 0): Promise<T> {
    const first = probe();
    if (first !== undefined) return Promise.resolve(first);
    return new Promise<T>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        clearInterval(poller);
        this.pending.delete(waiter);
      };
      const waiter: Waiter = {
        probe: () => {
          let v: T | undefined;
          try {
            v = probe();
          } catch (e) {
            done();
            reject(e instanceof Error ? e : new Error(String(e)));
            return;
          }
          if (v !== undefined) {
            done();
            resolve(v);
          }
        },
        fail: (err) => {
          done();
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what()}`));
      }, timeoutMs);
      const poller = pollMs > 0 ? setInterval(() => waiter.probe(), pollMs) : undefined;
      this.pending.add(waiter);
    });
  }

  notify(): void {
    for (const w of [...this.pending]) w.probe();
  }

  failAll(err: Error): void {
    for (const w of [...this.pending]) w.fail(err);
  }
}

export function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Listen on 127.0.0.1 with a port the OS picks; resolves to `http://127.0.0.1:<port>`. */
export function listenLocal(server: http.Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${port}`);
    });
  });
}

/** Stop listening and cut every open connection (keep-alive and hung requests included). */
export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parts of a multipart/form-data body, files as Buffers (parsed by the platform's own Request). */
export async function parseMultipart(contentType: string, body: Buffer): Promise<Array<[string, string | Buffer]>> {
  const form = await new Request('http://emulator.invalid/', {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: new Uint8Array(body),
  }).formData();
  const raw: Array<[string, FormDataEntryValue]> = [];
  form.forEach((value, key) => raw.push([key, value]));
  const out: Array<[string, string | Buffer]> = [];
  for (const [k, v] of raw) out.push([k, typeof v === 'string' ? v : Buffer.from(await v.arrayBuffer())]);
  return out;
}
