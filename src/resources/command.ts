/**
 * `command`: a shell command kept idempotent by a guard: `creates` (skip when the path
 * exists) or `unless` (skip when that command succeeds). The guard is probed with the other
 * facts and re-checked on the host right before running. As a handler it runs as is.
 */
import { z } from 'zod';
import { absPathSchema } from './file-common.js';
import { joinSh, rawSh, sh, type Sh } from './sh.js';
import type { ResourceType } from './types.js';

const schema = z.strictObject({
  cmd: z.string().min(1),
  creates: absPathSchema.optional(),
  unless: z.string().min(1).optional(),
});
export type CommandSpec = z.infer<typeof schema>;

function guardId(s: CommandSpec): string {
  // Stable, shell-safe id for the probe's guard section.
  let h = 0;
  for (const c of `${s.unless}`) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `g${h.toString(16)}`;
}

/** The user's own command and guard: shell by nature, inserted as written. */
function userCommand(s: CommandSpec): Sh {
  return rawSh(s.cmd, 'the command the user wrote');
}

function userGuard(unless: string): Sh {
  return rawSh(unless, 'the `unless` command the user wrote');
}

export const commandResource: ResourceType<CommandSpec> = {
  kind: 'command',
  schema,
  id: (s) => `command ${s.cmd.split('\n')[0]!.slice(0, 60)}`,
  async prepare(s, ctx) {
    // Arguments are visible to every user of the host in `ps`: a secret belongs in a file.
    // (Named secrets are refused earlier, by secret-policy.ts; this also covers sudo passwords.)
    if (ctx.containsSecret(s.cmd) || (s.unless !== undefined && ctx.containsSecret(s.unless))) {
      throw new Error('a secret value in `cmd` or `unless` would be visible in the process list of the host; write it to a file with a `template` step (mode 0600) and let the command read that file');
    }
    return s;
  },
  check: (s) => (!s.creates && !s.unless ? 'give `creates` or `unless` so the step stays idempotent (an unguarded command belongs in a handler)' : null),
  facts(s) {
    const out: ReturnType<ResourceType['facts']> = [];
    if (s.creates) out.push({ kind: 'stat', path: s.creates });
    if (s.unless) out.push({ kind: 'shell', id: guardId(s), script: userGuard(s.unless) });
    return out;
  },
  okReason: (s, facts) => (s.creates && facts.stat.get(s.creates) ? `\`creates\` ${s.creates} exists` : '`unless` command succeeded'),
  diff(s, facts, ctx) {
    if (s.creates && facts.stat.get(s.creates)) return null;
    if (s.unless && facts.shell.get(guardId(s))?.exitCode === 0) return null;
    const reason = s.creates ? `${s.creates} does not exist` : '`unless` command failed';
    return { step: ctx.step, kind: 'command', id: `command ${s.cmd.split('\n')[0]}`, action: 'run', reason, attrs: [], spec: s };
  },
  apply(change) {
    const s = change.spec;
    const conds: Sh[] = [];
    if (s.creates) conds.push(sh`[ -e ${s.creates} ]`);
    if (s.unless) conds.push(sh`( ${userGuard(s.unless)}\n) >/dev/null 2>&1`);
    const after = s.creates
      ? sh`\n  [ -e ${s.creates} ] || { _err ${`command ran but did not create ${s.creates}`}; return 1; }`
      : sh``;
    return sh`if ${joinSh(conds, sh` || `)}; then :; else\n  ( ${userCommand(s)}\n  ) || return $?\n  _changed${after}\nfi`;
  },
  handler: (s) => sh`( ${userCommand(s)}\n) || return $?\n_changed`,
};
