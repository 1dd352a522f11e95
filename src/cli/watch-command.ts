/**
 * `provision watch`: load and expand every selected host (all config errors before
 * anything connects), open the history, serve the fleet page, and check every host each
 * interval until SIGINT/SIGTERM. Exit 0 after a clean stop, 1 on bad input.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { ProvisionError } from '../config/errors.js';
import { loadInventory } from '../config/inventory.js';
import { Redactor } from '../report/redact.js';
import { HistoryStore } from '../watch/history.js';
import { boundAddress, isLoopback, serveWatch } from '../watch/server.js';
import { Watcher } from '../watch/watcher.js';
import { askMissingSecrets } from './ask-secrets.js';
import { printError } from './errors.js';
import { buildJobs, lockHolder } from '../compile/jobs.js';
import { selectHosts } from './select.js';
import type { Shard } from '../config/shard.js';

export interface WatchCommandOptions {
  limit?: string;
  shard?: Shard;
  interval: number;
  listen: { host: string; port: number };
  tokenEnv?: string;
  repair?: boolean;
  forks?: number;
  history?: string;
}

/** `30s`, `2m`, `1h`, `500ms`, or a bare number of seconds -> milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a duration (e.g. 30s, 2m, 1h)`);
  const ms = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  if (ms < 1000) throw new Error(`"${text}" is shorter than one second`);
  return ms;
}

/** `HOST:PORT` or `[IPv6]:PORT` -> parts. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text.trim());
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new Error(`"${text}" is not HOST:PORT (e.g. 127.0.0.1:9107)`);
  return { host: (m[1] ?? m[2])!, port };
}

/** One history file per inventory, outside the repository: ~/.local/state/provision/. */
export function defaultHistoryFile(inventory: string): string {
  const id = createHash('sha256').update(path.resolve(inventory)).digest('hex').slice(0, 12);
  const base = process.env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'provision', `watch-${path.basename(inventory).replace(/\.ya?ml$/, '')}-${id}.jsonl`);
}

function tokenFrom(opts: WatchCommandOptions): string | undefined {
  if (opts.tokenEnv === undefined) {
    if (isLoopback(opts.listen.host)) return undefined;
    throw new ProvisionError('E_USAGE', `--listen ${opts.listen.host} is reachable from other machines: give --token-env VAR naming an environment variable that holds the token`);
  }
  const token = process.env[opts.tokenEnv];
  if (!token) throw new ProvisionError('E_USAGE', `--token-env names ${opts.tokenEnv}, which is not set in the environment`);
  return token;
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

export async function watchCommand(inventoryFile: string, opts: WatchCommandOptions): Promise<number> {
  let redactor = new Redactor([]);
  try {
    const token = tokenFrom(opts);
    const inv = await loadInventory(inventoryFile);
    const hosts = selectHosts(inv, opts.limit, opts.shard);
    const typed = await askMissingSecrets(hosts);
    redactor = new Redactor([...inv.secretValues, ...typed, ...(token ? [token] : [])]);
    const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${redactor.redact(line)}\n`);
    // No quick retries inside a connect: the watcher's own backoff spaces the attempts.
    const built = await buildJobs(inv, hosts, { retryDelaysMs: [], onNewHostKey: (k) => log(`${k.host}: recorded new host key ${k.fingerprint} in ${k.file}`) });
    const history = await HistoryStore.open(opts.history ?? defaultHistoryFile(inventoryFile));
    const watcher = new Watcher(built.jobs, { intervalMs: opts.interval, forks: opts.forks ?? Math.max(inv.settings.forks, 1), repair: Boolean(opts.repair), redactor, history, holder: lockHolder(), log });
    const server = await serveWatch(watcher, { ...opts.listen, ...(token ? { token } : {}) });
    const stopped = untilSignal();
    log(`watching ${built.jobs.length} host${built.jobs.length === 1 ? '' : 's'} every ${opts.interval / 1000} s${opts.repair ? ', repairing drift' : ' (read-only)'}; fleet page http://${boundAddress(server)}/ ; history ${history.file}`);
    watcher.start();
    await stopped;
    log('stopping: closing connections');
    server.closeAllConnections();
    server.close();
    await watcher.stop();
    return 0;
  } catch (e) {
    return printError(e, redactor);
  }
}
