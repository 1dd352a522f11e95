/**
 * A Connection that runs scripts with the local /bin/sh: lets engine tests execute the
 * real probe and apply scripts against a temp directory without SSH. Counts execs.
 */
import { spawn } from 'node:child_process';
import type { Connection, ExecOptions, ExecResult } from '../../src/transport/connection.js';

export class LocalConnection implements Connection {
  execs = 0;
  scripts: string[] = [];
  constructor(readonly hostName = 'local') {}
  exec(script: string, options: ExecOptions = {}): Promise<ExecResult> {
    this.execs++;
    this.scripts.push(script);
    const started = Date.now();
    return new Promise((resolve) => {
      const child = spawn('/bin/sh', ['-s'], { stdio: ['pipe', 'pipe', 'pipe'] });
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
      child.stdin.end(script);
    });
  }
  async close(): Promise<void> {}
}
