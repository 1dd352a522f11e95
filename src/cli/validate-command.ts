/**
 * `validate`: everything `apply` checks before connecting (inventory, playbooks, every step
 * rendered and type-checked for every selected host, templates, downloads verified), with no
 * connection. For CI.
 */
import { loadInventory } from '../config/inventory.js';
import { Redactor } from '../report/redact.js';
import { printError } from './errors.js';
import { buildJobs } from '../compile/jobs.js';
import { selectHosts } from './select.js';
import type { Shard } from '../config/shard.js';

export async function validateCommand(inventory: string, opts: { limit?: string; shard?: Shard }): Promise<number> {
  let redactor = new Redactor([]);
  try {
    const inv = await loadInventory(inventory);
    redactor = new Redactor(inv.secretValues);
    const { jobs } = await buildJobs(inv, selectHosts(inv, opts.limit, opts.shard));
    const steps = jobs.reduce((n, j) => n + j.steps.length, 0);
    const n = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
    process.stdout.write(`ok: ${n(jobs.length, 'host')}, ${n(steps, 'step')} valid\n`);
    return 0;
  } catch (e) {
    return printError(e, redactor);
  }
}
