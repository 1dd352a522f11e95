/**
 * `haproxy_servers`: HAProxy's running servers and its server-state file agree with the
 * servers the inventory declares (the same vars that render haproxy.cfg).
 *
 * Probe: `show servers state` and `show backend` through the admin socket, and the state
 * file's content. Diff: runtime-diff.ts. Apply, cheapest first: admin-socket commands
 * (`set server B/S addr|weight|state`, no reload: workers and connections stay), then the
 * state file re-saved from the corrected runtime so that a later reload or restart cannot
 * bring back an old port or state; with HAProxy stopped, the stale lines are removed from
 * the state file instead. Only what the socket cannot do (a missing backend or server, an
 * undeclared server, a slot count) calls `_changed`, which notifies the step's handlers
 * (the playbook's `reload haproxy`); socket repairs use `_changed_live`, which does not.
 *
 * It is also the live step of haproxy.cfg (`live_by`, engine/live-changes.ts): a change
 * of the file confined to static servers' address/port, weight and `disabled`
 * (`liveMask`) notifies no reload when these commands succeed, and the step records the
 * file's mtime so that the probe does not call it "reload pending".
 */
import { z } from 'zod';
import { absPathSchema } from './file-common.js';
import { declared, dynamicBackendSchema, staticBackendSchema } from './haproxy/declared.js';
import { maskLiveLines } from './haproxy/live-lines.js';
import { parseLiveRecord, pendingLoad } from './haproxy/pending-load.js';
import { diffRuntime, diffStateFile } from './haproxy/runtime-diff.js';
import { parseServerState } from './haproxy/server-state.js';
import { joinSh, sh, type Sh } from './sh.js';
import type { ResourceType } from './types.js';

const schema = z.strictObject({
  socket: absPathSchema.refine((p) => /^[A-Za-z0-9/._-]+$/.test(p), 'use letters, digits and `/._-` (socat address syntax)'),
  state_file: absPathSchema,
  static_backends: z.array(staticBackendSchema).default([]),
  dynamic_backends: z.array(dynamicBackendSchema).default([]),
  /** dynamic backend NAME is `backend PREFIX+NAME`, its server-template `NAME`. */
  dynamic_prefix: z.string().regex(/^[A-Za-z0-9._:-]*$/).default('bk_'),
  default_slots: z.number().int().min(1).default(1),
  /** Master CLI socket (`-S` in EXTRAOPTS): when set, files below newer than the process are drift. */
  master_socket: absPathSchema.optional(),
  /** Read at every reload (haproxy.cfg, the conf.d directory): newer = reload pending. */
  reload_files: z.array(absPathSchema).default([]),
  /** Read only at a start (the unit's drop-in, /etc/default/haproxy): newer = restart pending. */
  restart_files: z.array(absPathSchema).default([]),
  /** The unit restarted when a restart is pending. */
  unit: z.string().regex(/^[A-Za-z0-9@._:-]+\.service$/).default('haproxy.service'),
});
export type HaproxyServersSpec = z.infer<typeof schema>;

export interface HaproxyServersData {
  commands: string[];
  reload: string[];
  /** Re-save the state file from the runtime (it is stale, or the runtime just changed). */
  resave: boolean;
  /** Lines to drop from the state file when HAProxy does not answer. */
  stale: [string, string][];
  /** A file read only at a start changed after HAProxy started. */
  restart: boolean;
}

function duplicateServer(s: HaproxyServersSpec): string | null {
  for (const b of s.static_backends) {
    const seen = new Set<string>();
    for (const srv of b.servers) {
      if (seen.has(srv.name)) return `server \`${srv.name}\` appears twice in backend \`${b.name}\``;
      seen.add(srv.name);
    }
  }
  return null;
}

/** sh: ask the admin socket; an answer that is not a success message fails the step. */
function commandLines(commands: string[]): Sh[] {
  return commands.map(
    (c) =>
      // `set server` prints nothing, or "IP changed from..." / "no need to change..." for addr.
      sh`_o=$(_hx ${c}) || { _err ${`${c}: the admin socket did not answer`}; return 1; }
case $_o in ''|*'changed from'*|*'no need to change'*) ;; *) _err ${`${c}:`} "$_o"; return 1 ;; esac`,
  );
}

/** Where the step records the files whose change it applied live (pending-load.ts). */
export const liveRecordPath = (s: HaproxyServersSpec) => `${s.state_file}.provision-live`;

/** sh: record the mtime of each file this run wrote and this step applied live. */
function recordLive(s: HaproxyServersSpec, files: { path: string; flag: Sh }[]): Sh[] {
  if (!files.length) return [];
  const rec = liveRecordPath(s);
  const tmp = `${liveRecordPath(s)}.tmp`;
  return [
    sh`: > ${tmp} || return 1`,
    ...files.map((f) => sh`if [ "$${f.flag}" = 1 ]; then printf '%s %s\n' "$(stat -c %Y -- ${f.path})" ${f.path} >> ${tmp} || return 1; fi`),
    sh`if [ -s ${tmp} ]; then mv -f -- ${tmp} ${rec} || return 1; else rm -f -- ${tmp}; fi`,
  ];
}

function applyFragment(s: HaproxyServersSpec, d: HaproxyServersData, live: { path: string; flag: Sh }[] = []): Sh {
  const sock = `UNIX-CONNECT:${s.socket}`;
  const state = s.state_file;
  const tmp = `${s.state_file}.provision-tmp`;
  const lines = [sh`_hx() { printf '%s\\n' "$1" | socat -t5 stdio ${sock}; }`];
  // `:` keeps each branch non-empty whatever is generated into it.
  lines.push(sh`if [ -S ${s.socket} ] && _hx 'show info' 2>/dev/null | grep -q '^Pid: '; then`, sh`:`);
  lines.push(...commandLines(d.commands));
  if (d.commands.length) lines.push(sh`_changed_live`);
  if (d.commands.length || d.resave) {
    // Same bytes as the drop-in's ExecReload save: the next reload or restart restores
    // what runs now, which is what the inventory declares.
    lines.push(sh`_hx 'show servers state' > ${tmp} && [ "$(head -n1 ${tmp})" = 1 ] && mv -f -- ${tmp} ${state} || { rm -f -- ${tmp}; _err 'cannot save the server state'; return 1; }`);
    lines.push(sh`_changed_live`);
  }
  lines.push(...recordLive(s, live));
  lines.push(sh`else`, sh`:`);
  if (d.stale.length) {
    const cond = d.stale.map(([b, srv]) => `($2 == "${b}" && $4 == "${srv}")`).join(' || ');
    lines.push(
      sh`if [ -f ${state} ]; then awk ${`NR <= 2 || !(${cond})`} ${state} > ${tmp} && mv -f -- ${tmp} ${state} || { rm -f -- ${tmp}; return 1; }; _changed_live; fi`,
    );
  }
  lines.push(sh`fi`);
  if (d.restart) {
    // A restart also loads the configuration: no reload is notified with it.
    const u = s.unit;
    // The drop-in may have been changed without a daemon-reload too.
    lines.push(sh`systemctl daemon-reload || return 1`);
    lines.push(sh`if ! _unit restart ${u}; then _err ${`systemctl restart ${s.unit} failed:`}; systemctl status --no-pager -l -n 20 -- ${u} >&2; return 1; fi`, sh`_changed_live`);
  } else if (d.reload.length) lines.push(sh`_changed`);
  return joinSh(lines);
}

export const haproxyServersResource: ResourceType<HaproxyServersSpec, HaproxyServersSpec, HaproxyServersData> = {
  kind: 'haproxy_servers',
  schema,
  id: (s) => `haproxy_servers ${s.socket}`,
  check: duplicateServer,
  // Reload and restart pending come from `show proc` (exact, and a failed HAProxy reload
  // leaves the unit active): the generic systemd comparison stays out of the way.
  loadWatched: (s) => (s.master_socket ? [s.unit] : []),
  okReason: (s, facts) => `${facts.haproxy.get(s.socket) ? 'HAProxy runs the declared servers' : 'HAProxy does not answer'}; no line of ${s.state_file} contradicts them`,
  facts: (s) => [
    { kind: 'haproxy', path: s.socket },
    { kind: 'content', path: s.state_file },
    ...(s.master_socket ? [{ kind: 'haproxyProc' as const, path: s.master_socket }] : []),
    ...(s.master_socket ? [...s.reload_files, ...s.restart_files].map((path) => ({ kind: 'mtime' as const, path })) : []),
    ...(s.master_socket ? [{ kind: 'content' as const, path: liveRecordPath(s) }] : []),
  ],
  // haproxy.cfg's server lines: address/port, weight and `disabled` go through the socket.
  liveMask: (s, path, text) => (s.reload_files.includes(path) ? maskLiveLines(declared(s), text) : null),
  diff(s, facts, ctx) {
    const decl = declared(s);
    const running = facts.haproxy.get(s.socket) ?? null;
    const savedBytes = facts.content.get(s.state_file) ?? null;
    const file = diffStateFile(decl, savedBytes ? parseServerState(savedBytes.toString('utf8')) : [], s.state_file);
    const rt = running ? diffRuntime(decl, running) : { attrs: [], notes: [], commands: [], reload: [] };
    const proc = s.master_socket && running ? (facts.haproxyProc.get(s.master_socket) ?? null) : null;
    const liveRecord = facts.content.get(liveRecordPath(s))?.toString('utf8') ?? null;
    const load = pendingLoad(proc, facts.mtime, { reload: s.reload_files, restart: s.restart_files }, parseLiveRecord(liveRecord));
    const notes = [...rt.notes, ...file.notes, ...load.notes];
    if (!notes.length) return null;
    const reload = [...rt.reload, ...(load.reload ? ['reload pending'] : [])];
    const data: HaproxyServersData = { commands: rt.commands, reload, resave: file.stale.length > 0, stale: file.stale, restart: load.restart };
    const how = load.restart ? 'restart' : reload.length ? 'reload' : running ? 'admin socket, no reload' : 'state file';
    const runtime = !load.restart && !reload.length && running && rt.commands.length ? { runtime: rt.commands } : {};
    return {
      step: ctx.step,
      kind: 'haproxy_servers',
      id: `haproxy_servers ${s.socket}`,
      action: 'update',
      reason: `${notes.join('; ')} (repair: ${how})`,
      attrs: [...rt.attrs, ...file.attrs, ...load.attrs],
      spec: s,
      data,
      ...runtime,
    };
  },
  apply: (change, ctx) => applyFragment(change.spec, change.data!, ctx.liveFiles),
};
