/**
 * A deferred script (Connection.execDeferred) is built only once ssh2 hands over the
 * session channel, i.e. once sshd has started the command, and is built again for a
 * retry rather than kept: a host waiting for its session holds no script text.
 * ssh2's client is replaced by one whose exec callback the test fires by hand.
 */
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import type { Client, ClientChannel } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { FRAMED_SHELL, runExec, type ExecContext } from '../../../src/transport/remote-exec.js';

class FakeChannel extends Writable {
  stdin: Buffer[] = [];
  stderr = new EventEmitter();
  closedByExec = false;
  close(): void {
    this.closedByExec = true;
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.stdin.push(Buffer.from(chunk));
    cb();
  }
  /** The remote command ends: status, then the channel closes. */
  exit(code: number, stderr = ''): void {
    if (stderr) this.stderr.emit('data', Buffer.from(stderr));
    this.emit('exit', code);
    this.emit('close');
  }
}

interface Pending {
  command: string;
  opts: { pty?: unknown };
  open(): FakeChannel;
}

function fakeClient(): { client: Client; pending: Pending[] } {
  const pending: Pending[] = [];
  const client = {
    exec(command: string, opts: { pty?: unknown }, cb: (err: Error | undefined, ch: ClientChannel) => void) {
      pending.push({
        command,
        opts,
        open() {
          const ch = new FakeChannel();
          cb(undefined, ch as unknown as ClientChannel);
          return ch;
        },
      });
    },
  };
  return { client: client as unknown as Client, pending };
}

const tick = () => new Promise((r) => setImmediate(r));

function context(client: Client, user = 'root'): ExecContext {
  return { client, user, label: 'lb-1 (127.0.0.1:22)', isLost: () => false };
}

describe('runExec with a deferred script', () => {
  it('builds the script only when the session channel is open, and sends exactly it', async () => {
    const { client, pending } = fakeClient();
    let builds = 0;
    const script = 'echo "héllo"\n';
    const result = runExec(context(client), () => {
      builds++;
      return script;
    });
    await tick();
    expect(pending).toHaveLength(1);
    expect(pending[0]!.command).toBe('/bin/sh -s');
    expect(builds).toBe(0);
    const ch = pending[0]!.open();
    expect(builds).toBe(1);
    await tick();
    expect(Buffer.concat(ch.stdin).toString('utf8')).toBe(script);
    expect(ch.writableEnded).toBe(true);
    ch.exit(0);
    await expect(result).resolves.toMatchObject({ exitCode: 0, connectionLost: false });
    expect(builds).toBe(1);
  });

  it('with payloads: the framed shell gets the byte length of the script built late, then the payloads', async () => {
    const { client, pending } = fakeClient();
    const script = '# é\nhead -c 3 <&3\n';
    const payload = Buffer.from('abc');
    const result = runExec(context(client), () => script, { payloads: [payload] });
    await tick();
    expect(pending[0]!.command).toBe(FRAMED_SHELL);
    const ch = pending[0]!.open();
    await tick();
    expect(Buffer.concat(ch.stdin).toString('utf8')).toBe(`${Buffer.byteLength(script)}\n${script}abc`);
    ch.exit(0);
    await result;
  });

  it('a sudo refused for want of a tty is retried with a pty and the script built again, not kept', async () => {
    const { client, pending } = fakeClient();
    let builds = 0;
    const result = runExec(
      context(client, 'deploy'),
      () => {
        builds++;
        return 'id -u\n';
      },
      { sudo: true },
    );
    await tick();
    pending[0]!.open().exit(1, 'sudo: sorry, you must have a tty to run sudo\n');
    await new Promise((r) => setTimeout(r, 10));
    expect(pending).toHaveLength(2);
    expect(pending[1]!.opts.pty).toBeTruthy();
    expect(builds).toBe(1);
    const ch = pending[1]!.open();
    expect(builds).toBe(2);
    await tick();
    expect(Buffer.concat(ch.stdin).toString('utf8')).toBe('6\nid -u\n');
    ch.exit(0);
    await expect(result).resolves.toMatchObject({ exitCode: 0 });
  });

  it('a builder that throws fails the exec with its error and closes the session with nothing sent', async () => {
    const { client, pending } = fakeClient();
    const result = runExec(context(client), () => {
      throw new Error('not pure');
    });
    await tick();
    const ch = pending[0]!.open();
    await expect(result).rejects.toThrow('not pure');
    expect(ch.closedByExec).toBe(true);
    expect(ch.stdin).toEqual([]);
  });
});
