/**
 * Snapshot tests of what the operator reads: the events of real runs (the engine's probe
 * and apply scripts run by the local `sh` in a temp dir, through a RecordingReporter),
 * played into the plain reporter (with and without --verbose), the live display's closing
 * output and the --json report. Deterministic: no colours, times zeroed, the temp dir and
 * this machine's user and group replaced by placeholders.
 *
 * The expected outputs are files under __snapshots__/reporters/: review them like code.
 * After an intended change of the output: `npx vitest run test/unit/report/reporters.test.ts -u`
 * rewrites them (then read the diff).
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError } from '../../../src/config/errors.js';
import { runAll } from '../../../src/engine/run.js';
import type { HostJob, HostResult, Mode, ResolvedStep } from '../../../src/engine/types.js';
import { jsonReport } from '../../../src/report/json.js';
import { ListrReporter } from '../../../src/report/listr.js';
import { PlainReporter } from '../../../src/report/plain.js';
import { RecordingReporter, type RecordedEvent } from '../../../src/report/recording.js';
import { Redactor } from '../../../src/report/redact.js';
import { commandResource } from '../../../src/resources/command.js';
import { directoryResource } from '../../../src/resources/directory.js';
import { fileResource } from '../../../src/resources/file.js';
import { lineResource } from '../../../src/resources/line.js';
import type { ResourceType } from '../../../src/resources/types.js';
import { LocalConnection } from '../../support/local-connection.js';
import { replay } from './replay.js';

let root: string;
const user = os.userInfo().username;
const group = execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();

function step(index: number, type: ResourceType, spec: Record<string, unknown>, line: number): ResolvedStep {
  const s = type.schema.parse(spec);
  const prepared = type.kind === 'file' ? { ...s, bytes: Buffer.from((s as { content?: string }).content ?? '') } : s;
  return { index, name: type.id(prepared), kind: type.kind, type, spec: prepared, notify: [], where: `site.yaml:${line}` };
}

/** web-1: a temp dir with one step of each outcome; web-2: does not answer. */
function jobs(): HostJob[] {
  const etc = path.join(root, 'etc');
  const web1: ResolvedStep[] = [
    step(0, directoryResource, { path: etc, mode: '0755' }, 3),
    step(1, fileResource, { dest: path.join(etc, 'app.conf'), content: 'port=80\n', mode: '0644' }, 6),
    step(2, lineResource, { path: path.join(etc, 'existing'), line: 'a=1' }, 11),
    step(3, commandResource, { cmd: 'echo "boom: disk full" >&2; exit 3', creates: path.join(root, 'never') }, 15),
    step(4, commandResource, { cmd: 'false', creates: etc }, 19),
  ];
  const base = { handlers: new Map(), validateSets: new Map(), sudo: false, lockFile: path.join(root, 'lock') };
  return [
    { ...base, name: 'web-1', steps: web1, connect: async () => new LocalConnection('web-1') },
    {
      ...base,
      name: 'web-2',
      steps: web1.slice(0, 1),
      connect: async () => {
        throw new ConnectionError('cannot connect to web-2: connection refused', 'connect ECONNREFUSED 192.0.2.7:22\n(the tool\'s own message: the long form)');
      },
    },
  ];
}

/** Runs `mode` for real and returns what the RecordingReporter saw, times zeroed. */
async function record(mode: Mode): Promise<{ events: RecordedEvent[]; steps: Map<string, ResolvedStep[]>; results: HostResult[] }> {
  const js = jobs();
  const rec = new RecordingReporter();
  const results = await runAll(js, { mode, withContent: false, forks: 1, holder: 'controller=test pid=1' }, rec);
  for (const e of rec.events) {
    if (e.event === 'hostDone') e.result.durationMs = 0;
    if (e.event === 'runDone') for (const r of e.results) r.durationMs = 0;
  }
  return { events: rec.events, steps: new Map(js.map((j) => [j.name, j.steps])), results };
}

function normalize(text: string): string {
  return text
    .split(root).join('<tmp>')
    .replace(/\[\+\d+\.\d+ s\] /g, '')
    .split(`${user}:${group}`).join('<user>:<group>');
}

async function plain(mode: Mode, verbose: boolean): Promise<string> {
  const { events, steps } = await record(mode);
  let out = '';
  await replay(events, new PlainReporter({ redactor: new Redactor([]), showDiff: false, color: false, verbose, write: (t) => (out += t) }), steps);
  return normalize(out);
}

async function live(mode: Mode): Promise<string> {
  const { events, steps } = await record(mode);
  let out = '';
  await replay(events, new ListrReporter(['web-1', 'web-2'], { redactor: new Redactor([]), showDiff: false, color: false, write: (t) => (out += t) }), steps);
  return normalize(out);
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'provision-report-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Before each run: the directory and the line exist, the file does not. */
async function reset(): Promise<void> {
  await rm(path.join(root, 'etc'), { recursive: true, force: true });
  await mkdir(path.join(root, 'etc'));
  await chmod(path.join(root, 'etc'), 0o755); // whatever the umask
  await writeFile(path.join(root, 'etc', 'existing'), 'a=1\n');
}

describe('reporters on the events of real runs', () => {
  it('plain, check', async () => {
    await reset();
    await expect(await plain('check', false)).toMatchFileSnapshot('./__snapshots__/reporters/plain-check.txt');
  });

  it('plain, check --verbose: unchanged steps say why; the unreachable host shows the long form', async () => {
    await reset();
    const out = await plain('check', true);
    expect(out).toContain('web-1: ok directory <tmp>/etc (site.yaml:3): in sync: <tmp>/etc: directory, mode 0755, <user>:<group>\n');
    expect(out).toContain('web-1: ok command false (site.yaml:19): `creates` <tmp>/etc exists\n');
    expect(out).toContain('web-2: unreachable: cannot connect to web-2: connection refused (0.0 s)\n    connect ECONNREFUSED 192.0.2.7:22\n');
    await expect(out).toMatchFileSnapshot('./__snapshots__/reporters/plain-check-verbose.txt');
  });

  it('plain, apply, and apply --verbose', async () => {
    await reset();
    const out = await plain('apply', false);
    expect(out).toContain('web-1: FAILED command echo "boom: disk full" >&2; exit 3\n    boom: disk full\n');
    expect(out).not.toContain('ECONNREFUSED');
    await expect(out).toMatchFileSnapshot('./__snapshots__/reporters/plain-apply.txt');
    await reset();
    await expect(await plain('apply', true)).toMatchFileSnapshot('./__snapshots__/reporters/plain-apply-verbose.txt');
  });

  it('live display: the closing output of check and apply', async () => {
    await reset();
    await expect(await live('check')).toMatchFileSnapshot('./__snapshots__/reporters/live-check.txt');
    await reset();
    await expect(await live('apply')).toMatchFileSnapshot('./__snapshots__/reporters/live-apply.txt');
  });

  it('--json: reasons of steps in sync, and the error\'s long form', async () => {
    await reset();
    const { results } = await record('apply');
    const json = jsonReport(results.map((r) => ({ ...r, durationMs: 0 })), 'apply', new Redactor([]));
    const text = normalize(JSON.stringify(json, null, 2));
    const hosts = JSON.parse(text).hosts;
    expect(hosts[0].steps[0].reason).toBe('in sync: <tmp>/etc: directory, mode 0755, <user>:<group>');
    expect(hosts[0].steps[1].reason).toBeNull();
    expect(hosts[1].error_detail).toMatch(/^connect ECONNREFUSED 192\.0\.2\.7:22\n/);
    await expect(text + '\n').toMatchFileSnapshot('./__snapshots__/reporters/apply.json');
  });
});
