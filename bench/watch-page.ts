/**
 * `npm run bench:watch-page`: the fleet page's first load with many hosts, in headless
 * Chromium (Debian's `chromium`, playwright-core). The hosts are real checks of real
 * files, run through a local shell instead of SSH (test/support/local-connection.ts),
 * because hundreds of sshd sessions do not fit a small machine; every 10th host drifts
 * (its row carries a diff), and each host has a 60-entry history strip.
 *
 *   --hosts 500     hosts on the page (default 500)
 *   --loads 3       page loads timed (default 3)
 *
 * Prints the time from navigation to every row rendered (median, max), and the size of
 * the snapshot the page receives.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { HostJob, ResolvedStep } from '../src/engine/types.js';
import { Redactor } from '../src/report/redact.js';
import { fileResource } from '../src/resources/file.js';
import { HistoryStore } from '../src/watch/history.js';
import { boundAddress, serveWatch } from '../src/watch/server.js';
import { Watcher } from '../src/watch/watcher.js';
import { LocalConnection } from '../test/support/local-connection.js';
import { median } from './measure.js';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name}: a positive whole number`);
  return v;
}

function job(name: string, dir: string, drift: boolean): HostJob {
  const want = `# ${name}\nmaxconn 2000\ntimeout connect 5s\n`;
  writeFileSync(path.join(dir, `${name}.cfg`), drift ? want.replace('2000', '20') : want);
  const spec = { ...fileResource.schema.parse({ dest: path.join(dir, `${name}.cfg`), content: want }), bytes: Buffer.from(want) };
  const step: ResolvedStep = { index: 0, name: 'haproxy config', kind: 'file', type: fileResource, spec, notify: [], where: 'playbooks/lb.yaml:12' };
  const conn = new LocalConnection(name);
  return { name, steps: [step], handlers: new Map(), validateSets: new Map(), sudo: false, lockFile: path.join(dir, `${name}.lock`), connect: () => Promise.resolve(conn) };
}

async function main(): Promise<void> {
  const n = arg('--hosts', 500);
  const loads = arg('--loads', 3);
  const work = mkdtempSync(path.join(os.tmpdir(), 'provision-page-bench-'));
  try {
    const names = Array.from({ length: n }, (_, i) => `lb-${String(i + 1).padStart(3, '0')}`);
    const jobs = names.map((h, i) => job(h, work, i % 10 === 0));
    const lines = names.flatMap((host) => Array.from({ length: 59 }, (_, k) => JSON.stringify({ t: new Date(Date.now() - (60 - k) * 30_000).toISOString(), host, status: k % 17 === 0 ? 'drift' : 'in-sync', ms: 40, steps: 0 })));
    writeFileSync(path.join(work, 'history.jsonl'), lines.join('\n') + '\n');
    const history = await HistoryStore.open(path.join(work, 'history.jsonl'));
    const watcher = new Watcher(jobs, { intervalMs: 3_600_000, forks: 8, repair: false, redactor: new Redactor([]), history, holder: 'bench', log: () => {} });
    await watcher.cycle();
    const server = await serveWatch(watcher, { host: '127.0.0.1', port: 0 });
    const url = `http://${boundAddress(server)}/`;
    const snapshotKb = (await (await fetch(`${url}api/hosts`)).text()).length / 1024;
    const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'provision-chromium-'));
    const ctx = await chromium.launchPersistentContext(userDataDir, { executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
    const times: number[] = [];
    try {
      const page = await ctx.newPage();
      for (let i = 0; i < loads; i++) {
        const t = Date.now();
        await page.goto(url);
        await page.locator(`tr.host >> nth=${n - 1}`).waitFor({ timeout: 120_000 });
        const rows = await page.locator('tr.host').count();
        if (rows !== n) throw new Error(`the page shows ${rows} rows, not ${n}`);
        times.push(Date.now() - t);
      }
    } finally {
      await ctx.close();
      rmSync(userDataDir, { recursive: true, force: true });
      server.closeAllConnections();
      server.close();
      await watcher.stop();
    }
    const drifted = watcher.views().filter((v) => v.status === 'drift').length;
    const s = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
    process.stdout.write(
      [
        `hosts ${n} (${drifted} drifted, with diffs), 60-entry history strips; ${os.cpus().length} cores; load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`,
        `snapshot ${snapshotKb.toFixed(0)} KiB`,
        `page first load to every row rendered: median ${s(median(times))}, max ${s(Math.max(...times))} of ${loads} (${times.map(s).join(', ')})`,
      ].join('\n') + '\n',
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
