/**
 * The watcher's read-only HTTP side (node:http): the fleet page (static HTML/JS/CSS from
 * static/watch/), `/api/hosts` (JSON), `/metrics` (Prometheus text) and `/events`
 * (server-sent events: a snapshot on connect, then one event per host check and per
 * cycle). Only GET and HEAD are served. With a token every data request must carry it, as
 * `Authorization: Bearer TOKEN` or `?token=TOKEN` (EventSource cannot send headers); the
 * page's static files hold no data and are served without it.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { METRICS_CONTENT_TYPE, renderMetrics } from './metrics.js';
import type { HostView } from './types.js';
import type { CycleSummary, Watcher } from './watcher.js';

const STATIC_DIR = new URL('../../static/watch/', import.meta.url);
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};
const HEARTBEAT_MS = 15_000;

export interface ServeOptions {
  host: string;
  port: number;
  /** Required on any address but loopback (the CLI enforces it). */
  token?: string;
}

/** Pure: whether an address only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function tokenOk(req: http.IncomingMessage, url: URL, token: string | undefined): boolean {
  if (token === undefined) return true;
  const auth = req.headers.authorization ?? '';
  const given = auth.startsWith('Bearer ') ? auth.slice(7) : (url.searchParams.get('token') ?? '');
  return timingSafeEqual(digest(given), digest(token));
}

function apiBody(watcher: Watcher): string {
  return JSON.stringify({ generatedAt: new Date().toISOString(), intervalSeconds: watcher.opts.intervalMs / 1000, repair: watcher.opts.repair, cycle: watcher.lastCycle ?? null, hosts: watcher.views() });
}

function sse(res: http.ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function streamEvents(watcher: Watcher, req: http.IncomingMessage, res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
  sse(res, 'snapshot', JSON.parse(apiBody(watcher)));
  const onHost = (v: HostView) => sse(res, 'host', v);
  const onCycle = (c: CycleSummary) => sse(res, 'cycle', c);
  watcher.on('host', onHost);
  watcher.on('cycle', onCycle);
  const beat = setInterval(() => res.write(': keepalive\n\n'), HEARTBEAT_MS);
  req.on('close', () => {
    clearInterval(beat);
    watcher.off('host', onHost);
    watcher.off('cycle', onCycle);
  });
}

async function handle(watcher: Watcher, opts: ServeOptions, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://watch.invalid');
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('content-security-policy', "default-src 'self'; frame-ancestors 'none'");
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end('read-only: GET and HEAD only\n');
    return;
  }
  const file = STATIC[url.pathname];
  // The page's own files hold no data (the page fetches it with its ?token=): only the
  // data endpoints need the token.
  if (!file && !tokenOk(req, url, opts.token)) {
    res.writeHead(401, { 'www-authenticate': 'Bearer' }).end('a token is required: Authorization: Bearer TOKEN, or ?token=TOKEN\n');
    return;
  }
  if (file) {
    const body = await readFile(new URL(file.file, STATIC_DIR));
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache' }).end(body);
  } else if (url.pathname === '/api/hosts') {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(apiBody(watcher));
  } else if (url.pathname === '/metrics') {
    res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(renderMetrics(watcher.views(), watcher.lastCycle));
  } else if (url.pathname === '/events') {
    if (req.method === 'HEAD') res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' }).end();
    else streamEvents(watcher, req, res);
  } else {
    res.writeHead(404).end('not found\n');
  }
}

/** Starts listening; resolves with the server once bound (its address names the port). */
export async function serveWatch(watcher: Watcher, opts: ServeOptions): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    handle(watcher, opts, req, res).catch((e: Error) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(`error: ${e.message}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return server;
}

export function boundAddress(server: http.Server): string {
  const a = server.address() as AddressInfo;
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}
