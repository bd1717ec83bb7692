/**
 * A pass-through HTTP proxy in front of an emulator (Slack's Web API, the model API) that can cut
 * a connection at a chosen moment: before the request reaches the server (the server never saw
 * it), or after the server answered (it did the work; the answer is lost on the way back), which
 * is what a dropped link does to a client mid-request. Everything it forwarded is recorded.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type CutAt = 'before' | 'after';

export interface ProxiedRequest {
  method: string;
  path: string;
  /** The Web API method for `/api/<method>` paths. */
  apiMethod: string | null;
  /** Set when the proxy cut this request's connection. */
  cut: CutAt | null;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly requests: readonly ProxiedRequest[];
  /**
   * Cuts the connection of the next `times` requests that match, at `at`.
   * ('after': the upstream handled the request and answered; the client gets a reset instead.)
   */
  cutNext(match: (r: ProxiedRequest) => boolean, at: CutAt, times?: number): void;
  close(): Promise<void>;
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const requests: ProxiedRequest[] = [];
  const rules: { match: (r: ProxiedRequest) => boolean; at: CutAt; left: number }[] = [];
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    const m = /^\/api\/([A-Za-z.]+)/.exec(path);
    const rec: ProxiedRequest = { method: req.method ?? 'GET', path, apiMethod: m?.[1] ?? null, cut: null };
    requests.push(rec);
    const rule = rules.find((r) => r.left > 0 && r.match(rec));
    if (rule) {
      rule.left--;
      rec.cut = rule.at;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (rec.cut === 'before') {
        req.socket.destroy();
        return;
      }
      const up = http.request({ host: target.hostname, port: target.port, method: req.method, path, headers: { ...req.headers, host: target.host } }, (upRes) => {
        const body: Buffer[] = [];
        upRes.on('data', (c: Buffer) => body.push(c));
        upRes.on('end', () => {
          if (rec.cut === 'after') {
            req.socket.destroy();
            return;
          }
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          res.end(Buffer.concat(body));
        });
      });
      up.on('error', () => req.socket.destroy());
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    cutNext(match, at, times = 1) {
      rules.push({ match, at, left: times });
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
