/** `provision health INVENTORY`: every selected host's gates, alone (nothing is applied). */
import { loadInventory } from '../config/inventory.js';
import { loadPlaybooks, type Playbook } from '../config/playbooks.js';
import { STEP_KINDS } from '../resources/registry.js';
import { runGates } from '../engine/health-run.js';
import { gateLine, gatesPassed } from '../engine/health.js';
import { mapPool } from '../engine/pool.js';
import type { HostResult } from '../engine/types.js';
import { writeJsonReport } from '../report/json.js';
import { Redactor } from '../report/redact.js';
import { connectSsh } from '../transport/ssh.js';
import { printError } from './errors.js';
import { sshTarget } from '../compile/jobs.js';
import { renderAllGates } from './rollout-hosts.js';

export async function healthCommand(inventory: string, opts: { limit?: string; forks?: number; json?: string }): Promise<number> {
  let redactor = new Redactor([]);
  try {
    const inv = await loadInventory(inventory);
    redactor = new Redactor(inv.secretValues);
    const hosts = inv.select(opts.limit);
    const playbooks = new Map<string, Playbook>();
    const loaded = new Map<string, Playbook>();
    for (const h of hosts) {
      const key = h.playbooks.join('\0');
      if (!loaded.has(key)) loaded.set(key, await loadPlaybooks(h.playbooks, STEP_KINDS));
      playbooks.set(h.name, loaded.get(key)!);
    }
    const gates = renderAllGates(inv, hosts, playbooks);
    const targets = new Map(hosts.map((h) => [h.name, sshTarget(inv, h)]));
    const out = (text: string) => process.stdout.write(redactor.redact(text) + '\n');
    const results = await mapPool(hosts, opts.forks ?? inv.settings.forks, async (h): Promise<HostResult> => {
      const started = Date.now();
      const mine = gates.get(h.name) ?? [];
      const base = { host: h.name, steps: [], handlers: [], execs: 0 };
      if (!mine.length) {
        out(`${h.name}: no health gates`);
        return { ...base, status: 'ok', gates: [], durationMs: 0 };
      }
      let conn = null;
      if (mine.some((g) => g.from === 'host')) {
        try {
          conn = await connectSsh(targets.get(h.name)!);
        } catch (e) {
          out(`${h.name}: unreachable: ${(e as Error).message}`);
          return { ...base, status: 'unreachable', error: (e as Error).message, durationMs: Date.now() - started };
        }
      }
      const run = await runGates(mine, conn, h.connection.sudo).finally(() => conn?.close().catch(() => {}));
      for (const g of run.results) out(`${h.name}: ${gateLine(g)}`);
      const ok = gatesPassed(run.results);
      return { ...base, status: ok ? 'ok' : 'failed', gates: run.results, execs: run.execs, durationMs: Date.now() - started, ...(ok ? {} : { error: 'health gates failed' }) };
    });
    const failed = results.filter((r) => r.status !== 'ok');
    out(failed.length ? `health: ${failed.length} of ${results.length} hosts failing: ${failed.map((r) => r.host).join(', ')}` : `health: all ${results.length} hosts passed`);
    if (opts.json) await writeJsonReport(opts.json, results, 'check', redactor);
    return failed.length ? 1 : 0;
  } catch (e) {
    return printError(e, redactor);
  }
}
