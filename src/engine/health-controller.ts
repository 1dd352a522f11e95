/** Gates checked from the controller: HTTP with fetch, TCP with a socket connect. */
import net from 'node:net';
import type { Gate, GateCheck, GateResult } from './health.js';

type Attempt = { ok: boolean; detail: string };

async function httpAttempt(check: Extract<GateCheck, { kind: 'http' }>): Promise<Attempt> {
  try {
    const res = await fetch(check.url, { signal: AbortSignal.timeout(check.timeoutS * 1000), redirect: 'manual' });
    const body = await res.text();
    if (res.status !== check.status) return { ok: false, detail: `status ${res.status}, expected ${check.status}` };
    if (check.body !== undefined && !new RegExp(check.body, 'm').test(body)) {
      return { ok: false, detail: `status ${res.status}, body does not match /${check.body}/` };
    }
    return { ok: true, detail: `status ${res.status}` };
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return { ok: false, detail: cause?.code ?? cause?.message ?? (e as Error).message };
  }
}

function tcpAttempt(check: Extract<GateCheck, { kind: 'tcp' }>): Promise<Attempt> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: check.address, port: check.port });
    const done = (a: Attempt) => {
      sock.destroy();
      resolve(a);
    };
    sock.setTimeout(check.timeoutS * 1000, () => done({ ok: false, detail: `no connection within ${check.timeoutS} s` }));
    sock.once('connect', () => done({ ok: true, detail: 'connected' }));
    sock.once('error', (e: NodeJS.ErrnoException) => done({ ok: false, detail: e.code ?? e.message }));
  });
}

function attempt(check: GateCheck): Promise<Attempt> {
  if (check.kind === 'http') return httpAttempt(check);
  if (check.kind === 'tcp') return tcpAttempt(check);
  return Promise.resolve({ ok: false, detail: 'a command gate runs on the host, not the controller' });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs one gate with its retries, interval and deadline. */
export async function runControllerGate(gate: Gate, signal?: AbortSignal): Promise<GateResult> {
  const started = Date.now();
  const deadline = started + gate.deadlineS * 1000;
  let attempts = 0;
  let last: Attempt = { ok: false, detail: 'not run' };
  while (true) {
    attempts++;
    last = await attempt(gate.check);
    if (last.ok) break;
    if (attempts > gate.retries || Date.now() + gate.intervalS * 1000 > deadline || signal?.aborted) break;
    await sleep(gate.intervalS * 1000);
  }
  return { name: gate.name, from: 'controller', passed: last.ok, attempts, durationMs: Date.now() - started, detail: last.detail };
}
