/**
 * A Connection that runs scripts with the local /bin/sh: lets engine tests execute the
 * real probe and apply scripts against a temp directory without SSH. Counts execs.
 */
import { spawn } from 'node:child_process';
import type { Connection, ExecOptions, ExecResult } from '../../src/transport/connection.js';
import { FRAMED_SHELL } from '../../src/transport/remote-exec.js';

export class LocalConnection implements Connection {
  execs = 0;
  scripts: string[] = [];
  constructor(readonly hostName = 'local') {}
  acceptsPayloads(): boolean {
    return true;
  }
  exec(script: string, options: ExecOptions = {}): Promise<ExecResult> {
    this.execs++;
    this.scripts.push(script);
    const started = Date.now();
    return new Promise((resolve) => {
      // With payloads: the same framing the SSH transport uses (script length, script, payloads on fd 3).
      const payloads = options.payloads ?? [];
      const child = payloads.length ? spawn('/bin/sh', ['-c', FRAMED_SHELL]) : spawn('/bin/sh', ['-s'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => {
        stdout += c;
        options.onStdout?.(c);
      });
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      child.on('close', (code, signal) =>
        resolve({ exitCode: code, signal, stdout, stderr, durationMs: Date.now() - started, connectionLost: false }),
      );
      if (payloads.length === 0) child.stdin.end(script);
      else {
        const body = Buffer.from(script, 'utf8');
        child.stdin.on('error', () => undefined);
        child.stdin.write(`${body.length}\n`);
        child.stdin.write(body);
        for (const p of payloads) child.stdin.write(p);
        child.stdin.end();
      }
    });
  }
  async close(): Promise<void> {}
}
