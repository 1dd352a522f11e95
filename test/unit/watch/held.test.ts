/** Held connections: reuse while alive, reconnect when lost, back off (doubling, capped) when unreachable. */
import { describe, expect, it } from 'vitest';
import { backoffMs, HeldConnection } from '../../../src/watch/held.js';
import type { Connection } from '../../../src/transport/connection.js';

function fakeConn(name: string): Connection & { lost: boolean; closed: number; isLost(): boolean } {
  const c = {
    hostName: name,
    lost: false,
    closed: 0,
    isLost: () => c.lost,
    exec: () => Promise.resolve({ exitCode: 0, signal: null, stdout: '', stderr: '', durationMs: 0, connectionLost: false }),
    close: () => ((c.closed++, Promise.resolve())),
  };
  return c;
}

describe('backoffMs', () => {
  it('doubles from the first wait up to the cap', () => {
    const p = { initialMs: 5000, maxMs: 60_000 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, p))).toEqual([5000, 10_000, 20_000, 40_000, 60_000, 60_000]);
  });
});

describe('HeldConnection', () => {
  it('connects once and hands out the same connection while it lives', async () => {
    let connects = 0;
    const c = fakeConn('a');
    const held = new HeldConnection(() => (connects++, Promise.resolve(c)));
    expect(await held.get()).toEqual({ conn: c });
    expect(await held.get()).toEqual({ conn: c });
    expect(connects).toBe(1);
    expect(held.connected).toBe(true);
  });

  it('reconnects at once after the connection was lost, closing the old one', async () => {
    const made = [fakeConn('a'), fakeConn('a')];
    let i = 0;
    const held = new HeldConnection(() => Promise.resolve(made[i++]!));
    await held.get();
    made[0]!.lost = true;
    expect(held.connected).toBe(false);
    expect(await held.get()).toEqual({ conn: made[1] });
    expect(made[0]!.closed).toBe(1);
  });

  it('does not retry an unreachable host before its backoff has passed', async () => {
    let now = 1_000_000;
    let attempts = 0;
    let fail = true;
    const c = fakeConn('a');
    const held = new HeldConnection(
      () => (attempts++, fail ? Promise.reject(new Error('connect ECONNREFUSED')) : Promise.resolve(c)),
      { initialMs: 5000, maxMs: 20_000 },
      () => now,
    );
    expect(await held.get()).toEqual({ error: 'connect ECONNREFUSED', retryAt: now + 5000, tried: true });
    now += 4999;
    expect(await held.get()).toMatchObject({ tried: false });
    expect(attempts).toBe(1);
    now += 1;
    expect(await held.get()).toMatchObject({ tried: true, retryAt: now + 10_000 });
    expect(attempts).toBe(2);
    now += 10_000;
    fail = false;
    expect(await held.get()).toEqual({ conn: c });
    expect(attempts).toBe(3);
  });

  it('lends a view whose close() leaves the held connection open', async () => {
    const c = fakeConn('a');
    const view = HeldConnection.borrowed(c);
    await view.close();
    expect(c.closed).toBe(0);
    expect((await view.exec('true')).exitCode).toBe(0);
  });
});

describe('a borrowed connection', () => {
  it('passes on deferred execs: a repair builds its script once the session is open', async () => {
    const built: string[] = [];
    const c = {
      ...fakeConn('a'),
      execDeferred: (build: () => string) => (built.push(build()), Promise.resolve({ exitCode: 0, signal: null, stdout: '', stderr: '', durationMs: 0, connectionLost: false })),
    };
    const view = HeldConnection.borrowed(c);
    expect(view.execDeferred).toBeTypeOf('function');
    await view.execDeferred!(() => 'echo late');
    expect(built).toEqual(['echo late']);
    expect(HeldConnection.borrowed(fakeConn('b')).execDeferred).toBeUndefined();
  });
});
