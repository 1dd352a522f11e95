/**
 * File changes applied live (engine/live-changes.ts), run for real: the engine's probe and
 * apply scripts in the local sh (LocalConnection). A stand-in "runtime" step type plays the
 * live step: it applies the file's `weight=` line to a runtime file and says so, or fails,
 * or needs its handler. The file step is a real `template` step with `live_by`.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runHost } from '../../../src/engine/host-run.js';
import { liveWiring, markLive } from '../../../src/engine/live-changes.js';
import type { HostJob, ResolvedStep, RunOptions } from '../../../src/engine/types.js';
import { RecordingReporter } from '../../../src/report/recording.js';
import { commandResource } from '../../../src/resources/command.js';
import { joinSh, sh } from '../../../src/resources/sh.js';
import { templateResource } from '../../../src/resources/template.js';
import type { Change, ResourceType } from '../../../src/resources/types.js';
import { LocalConnection } from '../../support/local-connection.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'provision-live-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

interface RuntimeSpec {
  runtime: string;
  weight: string;
  mode: 'ok' | 'fail' | 'reload';
}

/** Live step stand-in: the "running service" is a file holding the weight it runs with. */
const runtimeType: ResourceType<RuntimeSpec> = {
  kind: 'runtime_test',
  schema: z.strictObject({ runtime: z.string(), weight: z.string(), mode: z.enum(['ok', 'fail', 'reload']) }),
  id: (s) => `runtime_test ${s.runtime}`,
  facts: (s) => [{ kind: 'content', path: s.runtime }],
  diff: (s, facts, ctx) =>
    facts.content.get(s.runtime)?.toString() === s.weight
      ? null
      : { step: ctx.step, kind: 'runtime_test', id: `runtime_test ${s.runtime}`, action: 'update', reason: 'runtime weight differs', attrs: [], spec: s, runtime: [`set weight ${s.weight}`] },
  apply: (c, ctx) => {
    const s = c.spec as RuntimeSpec;
    // What the engine told it it applies live this run, and whether each file was written.
    const seen = (ctx.liveFiles ?? []).map((f) => sh`printf '%s=%s\\n' ${f.path} "$${f.flag}" >> ${`${root}/live-files`}`);
    if (s.mode === 'fail') return joinSh([...seen, sh`_err 'no such server'; return 1`]);
    return joinSh([...seen, sh`printf '%s' ${s.weight} > ${s.runtime}`, s.mode === 'reload' ? sh`_changed` : sh`_changed_live`]);
  },
  liveMask: (_s, _p, text) => text.replace(/^weight=.*$/m, 'weight=<live>'),
};

const RUNTIME_STEP = 'Runtime matches the configuration';

function steps(config: string, mode: RuntimeSpec['mode'], weight: string, dir = root): ResolvedStep[] {
  const dest = path.join(dir, 'app.conf');
  const t = { ...templateResource.schema.parse({ src: 'unused.njk', dest, live_by: RUNTIME_STEP }), bytes: Buffer.from(config) };
  const r = runtimeType.schema.parse({ runtime: path.join(dir, 'runtime'), weight, mode });
  return [
    { index: 0, name: 'Configuration', kind: 'template', type: templateResource, spec: t, notify: ['reload app'], where: 'test' },
    { index: 1, name: RUNTIME_STEP, kind: 'runtime_test', type: runtimeType, spec: r, notify: ['reload app'], where: 'test' },
  ];
}

function job(s: ResolvedStep[], conn: LocalConnection): HostJob {
  return {
    name: 'local',
    steps: s,
    handlers: new Map([['reload app', { name: 'reload app', kind: 'command', type: commandResource, spec: { cmd: `echo reloaded >> ${root}/handler.log` } }]]),
    validateSets: new Map(),
    sudo: false,
    lockFile: path.join(root, 'lock'),
    connect: async () => conn,
  };
}

const APPLY: RunOptions = { mode: 'apply', withContent: false, forks: 1, holder: 'controller=test pid=1' };
const handlerLog = () => readFile(path.join(root, 'handler.log'), 'utf8').catch(() => '');

async function start(): Promise<void> {
  await writeFile(path.join(root, 'app.conf'), 'name=a\nweight=1\n');
  await writeFile(path.join(root, 'runtime'), '1');
}

describe('a file change confined to live lines (real sh)', () => {
  it('is written, its handler is not notified, and the live step is told which file it applied', async () => {
    await start();
    const conn = new LocalConnection();
    const rec = new RecordingReporter();
    const r = await runHost(job(steps('name=a\nweight=3\n', 'ok', '3'), conn), APPLY, rec);
    expect(r.error).toBeUndefined();
    expect(r.status).toBe('changed');
    expect(conn.execs).toBe(2);
    expect(await readFile(path.join(root, 'app.conf'), 'utf8')).toBe('name=a\nweight=3\n');
    expect(await readFile(path.join(root, 'runtime'), 'utf8')).toBe('3');
    expect(await handlerLog()).toBe('');
    expect(r.handlers).toEqual([]);
    expect(r.steps.map((s) => s.status)).toEqual(['changed', 'changed']);
    expect(r.steps[0]!.change!.live).toEqual({ by: 1, name: RUNTIME_STEP });
    expect(r.steps[0]!.change!.reason).toBe(`content differs: only lines applied live by "${RUNTIME_STEP}" (no reload if it succeeds)`);
    expect(await readFile(path.join(root, 'live-files'), 'utf8')).toBe(`${path.join(root, 'app.conf')}=1\n`);
  });

  it('the live step fails: the file stays written and its handler runs (config and runtime never disagree)', async () => {
    await start();
    const r = await runHost(job(steps('name=a\nweight=3\n', 'fail', '3'), new LocalConnection()), APPLY, new RecordingReporter());
    expect(r.status).toBe('failed');
    expect(r.steps.map((s) => s.status)).toEqual(['changed', 'failed']);
    expect(await readFile(path.join(root, 'app.conf'), 'utf8')).toBe('name=a\nweight=3\n');
    expect(await handlerLog()).toBe('reloaded\n');
  });

  it('the live step needs its handler itself: the handler runs once', async () => {
    await start();
    const r = await runHost(job(steps('name=a\nweight=3\n', 'reload', '3'), new LocalConnection()), APPLY, new RecordingReporter());
    expect(r.status).toBe('changed');
    expect(await handlerLog()).toBe('reloaded\n');
  });

  it('a line outside the live mask changed too: not live, the handler runs', async () => {
    await start();
    const r = await runHost(job(steps('name=b\nweight=3\n', 'ok', '3'), new LocalConnection()), APPLY, new RecordingReporter());
    expect(r.steps[0]!.change!.live).toBeUndefined();
    expect(r.steps[0]!.change!.reason).toBe('content differs');
    expect(await handlerLog()).toBe('reloaded\n');
  });

  it('the running service already has the value (no live step in the apply): not live, the handler runs', async () => {
    await start();
    await writeFile(path.join(root, 'runtime'), '3');
    const r = await runHost(job(steps('name=a\nweight=3\n', 'ok', '3'), new LocalConnection()), APPLY, new RecordingReporter());
    expect(r.steps[0]!.change!.live).toBeUndefined();
    expect(await handlerLog()).toBe('reloaded\n');
  });
});

describe('markLive and liveWiring (pure)', () => {
  const content = (text: string) => ({ content: new Map([[path.join('/x', 'app.conf'), Buffer.from(text)]]) }) as never;
  const change = (step: number, over: Partial<Change> = {}): Change => ({
    step, kind: 'template', id: 't', action: 'update', reason: 'content differs', attrs: [], spec: { content: Buffer.from('name=a\nweight=3\n') },
    content: { path: '/x/app.conf', before: undefined, after: null }, ...over,
  });
  const j = (s: ResolvedStep[]) => ({ steps: s }) as HostJob;

  it('refuses a live step that runs before the file, and a change of mode or owner', () => {
    const [file, live] = steps('x', 'ok', '3', '/x');
    const before = j([{ ...live!, index: 0 }, { ...file!, index: 1 }]);
    const rt = { step: 0, kind: 'runtime_test', id: 'r', action: 'update' as const, reason: '', attrs: [], spec: {} };
    expect(markLive(before, content('name=a\nweight=1\n'), [rt, change(1)])[1]!.live).toBeUndefined();
    const inOrder = j([file!, live!]);
    const rt1 = { ...rt, step: 1 };
    expect(markLive(inOrder, content('name=a\nweight=1\n'), [change(0), rt1])[0]!.live).toEqual({ by: 1, name: RUNTIME_STEP });
    expect(markLive(inOrder, content('name=a\nweight=1\n'), [change(0, { attrs: [{ field: 'mode', before: '644', after: '600' }] }), rt1])[0]!.live).toBeUndefined();
  });

  it('defers the file step notification and cancels it only after the live step succeeded without notifying', () => {
    const w = liveWiring([{ step: 2, kind: 'template', id: 't', action: 'update', reason: '', attrs: [], spec: {}, content: { path: '/etc/a.cfg', before: undefined, after: null }, live: { by: 5, name: 'x' } }]);
    expect(w.deferred.get(2)?.text).toBe('[ "$_N" = 1 ] && _L2=1');
    const l = w.liveSteps.get(5)!;
    expect(l.files.map((f) => ({ path: f.path, flag: f.flag.text }))).toEqual([{ path: '/etc/a.cfg', flag: '_L2' }]);
    expect(l.after.text).toBe('[ "$_xr" = 0 ] && [ "$_N" = 0 ] && { _L2=; }');
    expect(w.remaining).toEqual([2]);
  });
});
