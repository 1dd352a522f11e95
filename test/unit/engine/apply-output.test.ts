/** The apply output parser's fault markers, and the lock message built from them. */
import { describe, expect, it } from 'vitest';
import { parseApplyOutput } from '../../../src/engine/apply-output.js';
import { brokeNote, lockMessage } from '../../../src/engine/host-run.js';

const N = '0123456789abcdef';
const m = (rest: string) => `@@${N} ${rest}`;

describe('parseApplyOutput: faults', () => {
  it('reads the temp dir from the start line and the step a stop flag prevented', () => {
    const out = parseApplyOutput([m('start /tmp/.provision-0123456789abcdef.Ab12Cd'), m('begin 0'), m('changed 0'), m('stopped 2'), m('done'), ''].join('\n'), N);
    expect(out).toMatchObject({ started: true, tempDir: '/tmp/.provision-0123456789abcdef.Ab12Cd', stopped: 2, running: null, done: true });
  });

  it('ignores a start line whose path is not a provision temp dir', () => {
    expect(parseApplyOutput(m('start /etc/$(reboot)') + '\n', N).tempDir).toBeNull();
  });

  it('reads the holder and its state from a refused lock', () => {
    const holder = 'controller=ops user=alice pid=7 started=2026-01-01T00:00:00Z remote_pid=99 remote_start=123 session=98';
    const out = parseApplyOutput([m('locked'), holder, m('lockend stale: its controller is gone (SSH session 98 ended; apply process 99 still running)'), ''].join('\n'), N);
    expect(out.locked).toBe(holder);
    expect(out.lockState).toBe('stale: its controller is gone (SSH session 98 ended; apply process 99 still running)');
    expect(lockMessage(out.locked!, out.lockState, false)).toBe(
      `host is locked by another run: ${holder} (stale: its controller is gone (SSH session 98 ended; apply process 99 still running)); re-run with --break-lock to stop it and take the lock`,
    );
    expect(lockMessage(holder, 'live', true)).toBe(`host is locked by another run: ${holder} (running, its controller connected; --break-lock only clears stale locks)`);
  });

  it('reports a broken stale lock and how its holder was stopped', () => {
    const out = parseApplyOutput([m('broke controller=x pid=1'), m('brokeby KILL'), m('start /tmp/.provision-0123456789abcdef.x'), ''].join('\n'), N);
    expect(out).toMatchObject({ broke: 'controller=x pid=1', brokeBy: 'KILL' });
    expect(brokeNote(out.broke!, out.brokeBy)).toBe(
      'broke a stale lock held by: controller=x pid=1; its apply did not stop on SIGTERM and was killed; what it had staged was removed for it',
    );
    expect(brokeNote('controller=x', 'TERM')).toBe('broke a stale lock held by: controller=x; its apply stopped on SIGTERM and removed what it had staged');
  });
});
