/**
 * The traffic witness against small HTTP servers on loopback: a healthy server gives zero
 * failures (the witness is not itself a cause of failures), and each kind of loss the
 * real-host tests look for is seen, counted and placed after the mark before it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseResponse } from './keepalive-lane.js';
import { labUrl, startWitness } from './traffic-witness.js';
import { failureLines, failureWindows, markBefore, summaryLine } from './witness-report.js';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function serve(handler: http.RequestListener): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(handler);
  // Client and server share this process: a stall of a busy machine must not make the
  // server time out idle connections (test 3 closes them on purpose).
  server.keepAliveTimeout = 120_000;
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

describe('traffic witness', () => {
  it('sends half on keep-alive connections and half on new ones; a healthy server means zero failures', async () => {
    const seen = { closeHeaders: 0, perKeptSocket: new Map<unknown, number>() };
    const { url } = await serve((req, res) => {
      if (req.headers.connection === 'close') seen.closeHeaders++;
      else seen.perKeptSocket.set(req.socket, (seen.perKeptSocket.get(req.socket) ?? 0) + 1);
      res.end('ok\n');
    });
    const w = startWitness({ targets: [url], ratePerSecond: 400, keepAliveConnections: 4, requestTimeoutMs: 60_000 });
    await w.answeredMore(600);
    const r = await w.stop();
    expect(r.failed, failureLines(r).join('\n')).toBe(0);
    expect(r.answered).toBe(r.sent);
    expect(Math.abs(r.byKind['keep-alive'].sent - r.byKind.new.sent)).toBeLessThanOrEqual(1);
    expect(seen.closeHeaders).toBe(r.byKind.new.sent);
    // the 4 keep-alive connections take turns (none is left idle to time out); a lane
    // idle for 4 s (a stalled machine) reconnects, so there may be more than 4 sockets
    const busiest = [...seen.perKeptSocket.values()].sort((a, b) => b - a).slice(0, 4);
    expect(busiest.length).toBe(4);
    for (const count of busiest) expect(count).toBeGreaterThan(r.byKind['keep-alive'].sent / 16);
    expect(summaryLine('the test', r)).toMatch(/^\d[\d,]* requests during the test, 0 failed \(keep-alive 0\/\d+, new connection 0\/\d+; worst latency [\d,]+ ms\)(, [\d,]+ not sent \(the witness fell behind\))?$/);
  });

  it('records non-2xx answers with the time they were sent, placed after the mark before them', async () => {
    let failing = 0;
    let w: ReturnType<typeof startWitness> | undefined;
    const { url } = await serve((_req, res) => {
      // the server answers exactly 20 requests with 503 once the test says so
      if (failing > 0 && --failing === 0) w!.mark('backend up');
      res.statusCode = failing > 0 ? 503 : 200;
      res.end('x\n');
    });
    w = startWitness({ targets: [url], ratePerSecond: 300, requestTimeoutMs: 60_000 });
    await w.answeredMore(50);
    w.mark('backend down');
    failing = 21;
    await w.answeredMore(100);
    const r = await w.stop();
    expect(r.failed).toBe(20);
    expect(new Set(r.failures.map((f) => f.cause))).toEqual(new Set(['status 503']));
    // placed by the time each request was sent: none after the backend came back
    const up = r.marks.find((m) => m.label === 'backend up')!.atMs;
    for (const f of r.failures) expect(f.atMs).toBeLessThanOrEqual(up);
    // (a request already in flight when the test marked "backend down" is placed before it)
    for (const line of failureLines(r)) expect(line).toMatch(/ \(\d+ ms, (\+\d+ ms after "backend down"|before the first mark)\) 127\.0\.0\.1:\d+ (keep-alive|new)( \(reused connection\))?: status 503$/);
  });

  it('places a failure after the latest mark at or before it', () => {
    const marks = [{ atMs: 10, label: 'a' }, { atMs: 20, label: 'b' }];
    expect([5, 10, 19, 20, 99].map((t) => markBefore(marks, t)?.label)).toEqual([undefined, 'a', 'a', 'b', 'b']);
  });

  it('sees idle keep-alive connections closed without notice, and not those closed after a `Connection: close` answer', async () => {
    let mode: 'serve' | 'notice' = 'serve';
    const { server, url } = await serve((_req, res) => {
      if (mode === 'notice') res.setHeader('connection', 'close');
      res.end('ok\n');
    });
    const w = startWitness({ targets: [url], ratePerSecond: 200, keepAliveConnections: 4, requestTimeoutMs: 60_000 });
    await w.answeredMore(100);
    w.mark('idle connections closed');
    server.closeIdleConnections();
    await w.answeredMore(100);
    const abrupt = await w.stop();
    expect(abrupt.byKind.new.failed).toBe(0);
    expect(abrupt.byKind['keep-alive'].failed).toBeGreaterThan(0);
    // mostly seen as closed before the next request; a request racing the close (as over a
    // network) is lost on the wire instead
    for (const f of abrupt.failures) {
      expect(f.reused).toBe(true);
      expect(['idle connection closed by the server', 'closed without a response', 'ECONNRESET']).toContain(f.cause);
    }
    // placed when the server closed them, not when the lane next tried to use them
    // (a request that raced the close is placed when it was sent, possibly just before)
    const closedAt = abrupt.marks[0]!.atMs;
    for (const f of abrupt.failures.filter((f) => f.cause === 'idle connection closed by the server')) expect(f.atMs).toBeGreaterThanOrEqual(closedAt);

    mode = 'notice';
    const w2 = startWitness({ targets: [url], ratePerSecond: 200, keepAliveConnections: 4, requestTimeoutMs: 60_000 });
    await w2.answeredMore(300);
    const polite = await w2.stop();
    expect(polite.failed, failureLines(polite).join('\n')).toBe(0);
  });

  it('counts refused connections and stops by itself at its request bound', async () => {
    const { server, url } = await serve((_req, res) => res.end('ok\n'));
    server.close();
    server.closeAllConnections();
    const w = startWitness({ targets: [url], ratePerSecond: 500, maxRequests: 100 });
    await expect(w.answeredMore(1)).rejects.toThrow(/witness stopped after \d+ requests/);
    const r = await w.stop();
    expect(r.truncated).toBe(true);
    expect(r.sent + r.skipped).toBe(100);
    expect(r.failed).toBe(r.sent);
    expect(new Set(r.failures.map((f) => f.cause))).toEqual(new Set(['ECONNREFUSED']));
  });

  it('talks only to loopback and the test labs\' subnet', () => {
    expect(labUrl('http://10.213.37.11/').host).toBe('10.213.37.11');
    expect(() => labUrl('http://192.0.2.1/')).toThrow(/neither loopback nor a test lab address/);
    expect(() => labUrl('https://127.0.0.1/')).toThrow();
  });

  it('parses complete responses only, and their Connection: close', () => {
    expect(parseResponse('HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nok')).toBeNull();
    expect(parseResponse('HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nok\n')).toEqual({ status: 200, close: false });
    expect(parseResponse('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')).toEqual({ status: 503, close: true });
    expect(parseResponse('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nok\n\r\n0\r\n\r\n')).toEqual({ status: 200, close: false });
  });

  it('never bursts: after a stall it skips what it could not send in time, and says so', async () => {
    const { url } = await serve((_req, res) => res.end('ok\n'));
    const w = startWitness({ targets: [url], ratePerSecond: 1000, requestTimeoutMs: 60_000 });
    await w.answeredMore(20);
    const stalledUntil = performance.now() + 600;
    while (performance.now() < stalledUntil); // the witness's own process stalls 0.6 s
    await w.answeredMore(200);
    const r = await w.stop();
    expect(r.failed).toBe(0);
    expect(r.skipped).toBeGreaterThan(0);
    expect(summaryLine('the stall', r)).toMatch(/, \d+ not sent \(the witness fell behind\)/);
  });

  it('gives each host the window between its first and last failure', () => {
    const f = (target: string, atMs: number) => ({ atMs, wall: '', target, kind: 'new' as const, cause: 'ECONNREFUSED', reused: false });
    const r = { failures: [f('10.213.1.11', 100), f('10.213.1.11:8081', 350), f('10.213.1.12', 200)] };
    expect(failureWindows(r as never)).toEqual(
      new Map([
        ['10.213.1.11', { firstMs: 100, lastMs: 350, failed: 2 }],
        ['10.213.1.12', { firstMs: 200, lastMs: 200, failed: 1 }],
      ]),
    );
  });
});
