/**
 * The demo's second act (issue 17): a change applied to both load balancers while the
 * traffic witness sends 300 requests per second through them, and the witness's figures
 * for that apply ("3,120 requests during the apply, 0 failed").
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { underTraffic } from '../support/witness-change.js';
import { failureLines, summaryLine } from '../support/witness-report.js';
import type { StackLab } from './stack-lab.js';

/** A copy of the lab's inventory whose LBs gain a frontend on :8082 (a reload, no restart). */
export async function inventoryWithExtraFrontend(stack: StackLab): Promise<string> {
  const doc = parseDocument(await readFile(stack.inventoryPath, 'utf8'));
  const frontends = (doc.getIn(['groups', 'lb', 'vars', 'haproxy_frontends']) as { toJSON(): unknown[] }).toJSON();
  doc.setIn(['groups', 'lb', 'vars', 'haproxy_frontends'], [...frontends, { name: 'fe_extra', bind: ':8082', default_backend: 'bk_tomcat' }]);
  const changed = path.join(path.dirname(stack.inventoryPath), 'demo-changed.yaml');
  await writeFile(changed, doc.toString());
  return changed;
}

/** Runs `apply` under the witness on both LBs' frontends; the lines to show and the failures. */
export async function applyUnderTraffic(stack: StackLab, apply: () => Promise<number>): Promise<{ code: number; lines: string[]; failed: number }> {
  const targets = stack.lbs.flatMap((lb) => [`http://${lb.address}/`, `http://${lb.address}:8081/`]);
  const w = await underTraffic('the apply', apply, { targets, ratePerSecond: 300, maxDurationMs: 10 * 60_000 });
  return { code: w.result, lines: [summaryLine('the apply', w.report), ...failureLines(w.report, 10)], failed: w.report.failed };
}
