/**
 * Health gates against real things: a local HTTP server and a closed port for the
 * controller-side checks, the host-side script run by the local /bin/sh (curl, bash's
 * /dev/tcp, commands), with retries, intervals and deadlines.
 */
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runControllerGate } from '../../../src/engine/health-controller.js';
import { runGates } from '../../../src/engine/health-run.js';
import type { Gate, GateCheck } from '../../../src/engine/health.js';
import { gateLine } from '../../../src/engine/health.js';
import { LocalConnection } from '../../support/local-connection.js';

let server: http.Server;
let base: string;
let port: number;
let closedPort: number;
let hits = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits++;
    if (req.url === '/flaky' && hits % 3 !== 0) return void res.writeHead(503).end('warming up');
    if (req.url === '/down') return void res.writeHead(503).end('no server available');
    res.writeHead(200).end('servers: web-1 UP\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  // A port nothing listens on: bind, read the number, close.
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as net.AddressInfo).port;
  await new Promise((r) => probe.close(r));
});
afterAll(() => new Promise((r) => server.close(r)));

const gate = (check: GateCheck, from: Gate['from'], extra: Partial<Gate> = {}): Gate => ({ name: 'g', from, check, retries: 0, intervalS: 0.1, deadlineS: 20, ...extra });
const httpCheck = (p: string, body?: string): GateCheck => ({ kind: 'http', url: `${base}${p}`, status: 200, timeoutS: 5, ...(body ? { body } : {}) });

describe('controller-side gates', () => {
  it('HTTP: status and body regexp', async () => {
    expect(await runControllerGate(gate(httpCheck('/', 'web-\\d+ UP'), 'controller'))).toMatchObject({ passed: true, attempts: 1, detail: 'status 200' });
    expect(await runControllerGate(gate(httpCheck('/', 'DOWN'), 'controller'))).toMatchObject({ passed: false, detail: 'status 200, body does not match /DOWN/' });
    expect(await runControllerGate(gate(httpCheck('/down'), 'controller', { retries: 2 }))).toMatchObject({ passed: false, attempts: 3, detail: 'status 503, expected 200' });
  });

  it('retries until a flaky endpoint passes', async () => {
    hits = 0;
    const r = await runControllerGate(gate(httpCheck('/flaky'), 'controller', { retries: 5 }));
    expect(r).toMatchObject({ passed: true, attempts: 3 });
  });

  it('the deadline ends the retries', async () => {
    const r = await runControllerGate(gate(httpCheck('/down'), 'controller', { retries: 1000, intervalS: 0.2, deadlineS: 1 }));
    expect(r.passed).toBe(false);
    expect(r.attempts).toBeGreaterThan(1);
    expect(r.attempts).toBeLessThan(1000);
  });

  it('TCP connect', async () => {
    expect(await runControllerGate(gate({ kind: 'tcp', address: '127.0.0.1', port, timeoutS: 5 }, 'controller'))).toMatchObject({ passed: true, detail: 'connected' });
    expect(await runControllerGate(gate({ kind: 'tcp', address: '127.0.0.1', port: closedPort, timeoutS: 5 }, 'controller'))).toMatchObject({ passed: false, detail: 'ECONNREFUSED' });
  });
});

describe('host-side gates (one exec, run by sh)', () => {
  it('http, tcp and commands in one exec; results in declared order with the failure output', async () => {
    const conn = new LocalConnection();
    const gates: Gate[] = [
      { ...gate(httpCheck('/', 'web-[0-9]+ UP'), 'host'), name: 'http ok' },
      { ...gate(httpCheck('/down'), 'host'), name: 'http down' },
      { ...gate({ kind: 'tcp', address: '127.0.0.1', port, timeoutS: 5 }, 'host'), name: 'tcp ok' },
      { ...gate({ kind: 'tcp', address: '127.0.0.1', port: closedPort, timeoutS: 5 }, 'host'), name: 'tcp closed' },
      { ...gate(httpCheck('/'), 'controller'), name: 'from controller' },
      { ...gate({ kind: 'command', command: "echo 'bk_ghost has no server UP'; exit 1" }, 'host', { retries: 2 }), name: 'cmd fails' },
      { ...gate({ kind: 'command', command: 'f=$(mktemp); rm "$f"; exit 0' }, 'host'), name: 'cmd ok' },
    ];
    const run = await runGates(gates, conn, false);
    expect(conn.execs).toBe(1);
    expect(run.execs).toBe(1);
    expect(run.results.map((r) => `${r.name} ${r.from} ${r.passed} ${r.attempts}`)).toEqual([
      'http ok host true 1',
      'http down host false 1',
      'tcp ok host true 1',
      'tcp closed host false 1',
      'from controller controller true 1',
      'cmd fails host false 3',
      'cmd ok host true 1',
    ]);
    expect(run.results[1]!.detail).toBe('status 503, expected 200');
    expect(run.results[3]!.detail).toBe(`no connection to 127.0.0.1:${closedPort}`);
    expect(run.results[5]!.detail).toBe('bk_ghost has no server UP');
    expect(gateLine(run.results[5]!)).toMatch(/^health cmd fails: FAILED \(host, 3 attempts, \d+\.\d s\): bk_ghost has no server UP$/);
  });

  it('a command gate is cut at the deadline', async () => {
    const conn = new LocalConnection();
    const run = await runGates([gate({ kind: 'command', command: 'sleep 30' }, 'host', { deadlineS: 1, retries: 3 })], conn, false);
    expect(run.results[0]).toMatchObject({ passed: false, attempts: 1 });
    expect(run.results[0]!.durationMs).toBeLessThan(30_000);
  });

  it('no gates on the host: no exec', async () => {
    const conn = new LocalConnection();
    const run = await runGates([gate(httpCheck('/'), 'controller')], conn, false);
    expect(conn.execs).toBe(0);
    expect(run.results[0]!.passed).toBe(true);
  });
});
