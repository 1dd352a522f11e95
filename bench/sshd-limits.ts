/**
 * The benchmark's one loopback sshd must take N simultaneous logins. The test fixture
 * (test/support/sshd.ts) starts it with `MaxStartups 200:30:500`, which from 200 pending
 * handshakes on drops 30% of new ones at random, so at N = 500 it rewrites those lines
 * and asks sshd to re-read its config (SIGHUP: sshd re-executes itself, same PID and
 * port). sshd takes the first value of a keyword, so appending would not do.
 *
 * File limits: sshd inherits this Node's RLIMIT_NOFILE, which Node raises to the hard
 * limit at startup; `fileLimit()` reports it beside the results.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { accepts, type SshdFixture } from '../test/support/sshd.js';

/** Config text with MaxStartups/MaxSessions set for `n` simultaneous logins (never lowered). */
export function sshdConfigFor(config: string, n: number): string {
  const startups = Math.max(500, 2 * n);
  const sessions = Math.max(200, n);
  return config
    .replace(/^MaxStartups .*$/m, `MaxStartups ${startups}`)
    .replace(/^MaxSessions .*$/m, `MaxSessions ${sessions}`);
}

export async function raiseSshdLimits(sshd: SshdFixture, n: number): Promise<string> {
  const file = path.join(sshd.dir, 'sshd_config');
  const before = readFileSync(file, 'utf8');
  const after = sshdConfigFor(before, n);
  const line = (/^MaxStartups .*$/m.exec(after) ?? ['?'])[0];
  if (after === before) return line;
  writeFileSync(file, after);
  process.kill(sshd.pid, 'SIGHUP');
  // The re-executed sshd listens again within moments; wait for it (no deadline race:
  // the start of the first run would otherwise meet a closed port).
  await new Promise((r) => setTimeout(r, 300));
  for (let i = 0; !(await accepts(sshd.host, sshd.port)); i++) {
    if (i === 100) throw new Error(`sshd did not listen again after SIGHUP with ${line}:\n${sshd.log().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return line;
}

/** This process's open-file limit (soft/hard), inherited by sshd and every tool. */
export function fileLimit(): string {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return m ? `${m[1]}/${m[2]}` : '?';
}
