/** `apply` and `check`: load, expand every host, run, report, choose the exit code. */
import { setMaxListeners } from 'node:events';
import { loadInventory } from '../config/inventory.js';
import { runAll } from '../engine/run.js';
import { runRollout } from '../engine/rollout.js';
import type { MaxFail, SerialEntry } from '../config/rollout-schema.js';
import type { HostResult, Mode, PlanGuard, Reporter } from '../engine/types.js';
import type { Inventory } from '../config/inventory.js';
import { writeJsonReport } from '../report/json.js';
import { ListrReporter } from '../report/listr.js';
import { PlainReporter } from '../report/plain.js';
import { Redactor } from '../report/redact.js';
import { printError } from './errors.js';
import { askMissingSecrets } from './ask-secrets.js';
import { buildJobs, lockHolder, type BuiltJobs } from '../compile/jobs.js';
import { writeCiReports } from './ci-reports.js';
import { selectHosts } from './select.js';
import type { Shard } from '../config/shard.js';
import { rolloutHosts, wantsRollout } from './rollout-hosts.js';

export interface RunCommandOptions {
  limit?: string;
  diff?: boolean;
  forks?: number;
  json?: string;
  breakLock?: boolean;
  verbose?: boolean;
  shard?: Shard;
  /** `--junit FILE`: JUnit XML, one test case per host and step. */
  junit?: string;
  /** `--format github`: GitHub Actions annotations after the normal output. */
  format?: 'plain' | 'github';
  /** `--serial` / `--max-fail` (apply): a rolling apply over every selected host. */
  serial?: SerialEntry[];
  maxFail?: MaxFail;
}

/** Any of these makes the run exit 1. */
const FAILED_STATUSES = new Set(['failed', 'unreachable', 'restored', 'restore failed', 'not started']);

function useLiveDisplay(): boolean {
  return Boolean(process.stdout.isTTY) && !process.env.CI && process.env.TERM !== 'dumb';
}

/** Saved plans hook in here (plan-command.ts): after the jobs are built, before anything connects. */
export interface RunHooks {
  /** May throw a ProvisionError (the run is refused); returns the guard the run uses. */
  prepare?(inv: Inventory, built: BuiltJobs): PlanGuard | undefined;
}

export async function run(inventoryFile: string, opts: RunCommandOptions, mode: Mode, hooks: RunHooks = {}): Promise<{ code: number; results?: HostResult[]; built?: BuiltJobs; inv?: Inventory }> {
  let redactor = new Redactor([]);
  let built;
  // On a terminal, something from the first second: loading can take seconds (templates, downloads).
  const say = useLiveDisplay() && !opts.verbose ? (line: string) => process.stderr.write(`${line}\n`) : () => {};
  try {
    say(`${mode}: loading ${inventoryFile}: inventory, playbooks, templates, downloads...`);
    const inv = await loadInventory(inventoryFile);
    redactor = new Redactor(inv.secretValues);
    const hosts = selectHosts(inv, opts.limit, opts.shard);
    const typed = await askMissingSecrets(hosts);
    redactor = new Redactor([...inv.secretValues, ...typed]);
    built = await buildJobs(inv, hosts, {
      onNewHostKey: (k) => process.stderr.write(`${k.host}: recorded new host key ${k.fingerprint} in ${k.file}\n`),
    });
    // Gates are rendered (and their errors reported) before anything connects.
    const rollout = mode === 'apply' && wantsRollout(hosts, opts.serial, built.playbooks) ? rolloutHosts(inv, hosts, built.jobs, built.playbooks) : null;
    const planGuard = hooks.prepare?.(inv, built);
    const forks = opts.forks ?? inv.settings.forks;
    say(`${mode}: ${built.jobs.length} host${built.jobs.length === 1 ? '' : 's'}, ${Math.min(forks, built.jobs.length)} at a time`);
    const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
    const reporterOpts = { redactor, showDiff: Boolean(opts.diff), color, verbose: Boolean(opts.verbose) };
    // Verbose output is a log: line by line, never a live display that redraws.
    const reporter: Reporter = useLiveDisplay() && !opts.verbose
      ? new ListrReporter(built.jobs.map((j) => j.name), reporterOpts)
      : new PlainReporter(reporterOpts);

    // First Ctrl-C: no new step starts, running steps finish; second: leave now.
    const abort = new AbortController();
    // Every host in flight listens for the stop: not a leak, however many hosts there are.
    setMaxListeners(0, abort.signal);
    let interrupts = 0;
    const onSigint = () => {
      interrupts++;
      if (interrupts === 1) {
        process.stderr.write('\ninterrupted: finishing running steps, starting no new ones (Ctrl-C again to quit now)\n');
        abort.abort();
      } else process.exit(130);
    };
    process.on('SIGINT', onSigint);
    let results: HostResult[];
    try {
      const runOpts = { mode, withContent: Boolean(opts.diff), forks, signal: abort.signal, holder: lockHolder(), breakLock: Boolean(opts.breakLock), ...(planGuard ? { planGuard } : {}) };
      results = rollout
        ? await runRollout(rollout, { ...runOpts, ...(opts.serial ? { override: { serial: opts.serial, maxFail: opts.maxFail } } : {}) }, reporter)
        : await runAll(built.jobs, runOpts, reporter);
    } finally {
      process.off('SIGINT', onSigint);
    }
    if (opts.json) await writeJsonReport(opts.json, results, mode, redactor);
    await writeCiReports(opts, results, built.jobs, mode, redactor);
    const done = { results, built, inv };
    if (abort.signal.aborted) return { code: 130, ...done };
    if (results.some((r) => FAILED_STATUSES.has(r.status))) return { code: 1, ...done };
    if (mode === 'check' && results.some((r) => r.status === 'drift')) return { code: 2, ...done };
    return { code: 0, ...done };
  } catch (e) {
    return { code: printError(e, redactor, Boolean(opts.verbose)) };
  }
}

export async function applyCommand(inventory: string, opts: RunCommandOptions): Promise<number> {
  return (await run(inventory, opts, 'apply')).code;
}

export async function checkCommand(inventory: string, opts: RunCommandOptions): Promise<number> {
  return (await run(inventory, opts, 'check')).code;
}
