/**
 * Unit facts: ONE `systemctl show` over every unit. It prints one block per argument, in
 * argument order, separated by blank lines; a unit that does not exist still gets a block
 * (LoadState=not-found). Blocks are matched to keys by position, because an alias shows
 * the Id of the unit it points to (`sshd.service` -> `Id=ssh.service`); when the block
 * count is off (systemctl failed half way, no systemd at all) they are matched by Id and
 * the rest are reported not-found. The start and reload times (restart pending,
 * engine/load-pending.ts) come in the same call: `--timestamp=unix` prints `@SECONDS`
 * (systemd 248+; docs/restart-pending.md).
 */
import { sh } from '../sh.js';
import type { FactCollector, UnitState } from './types.js';

const PROPS = 'Id,LoadState,ActiveState,SubState,UnitFileState,FragmentPath,DropInPaths,ExecMainStartTimestamp,StateChangeTimestamp,ReloadResult';

/** `@1795927940` -> 1795927940; empty (never started) or any other form -> undefined. */
export function parseUnixTimestamp(text: string | undefined): number | undefined {
  const m = /^@(\d+)$/.exec(text ?? '');
  return m ? Number(m[1]) : undefined;
}

export function notFoundUnit(id: string): UnitState {
  return { id, loadState: 'not-found', activeState: 'inactive', subState: 'dead', unitFileState: '', fragmentPath: '', dropInPaths: [] };
}

function parseBlock(block: string): Record<string, string> {
  const props: Record<string, string> = {};
  for (const line of block.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) props[line.slice(0, i)] = line.slice(i + 1);
  }
  return props;
}

function toState(key: string, p: Record<string, string>): UnitState {
  return {
    id: p.Id || key,
    loadState: p.LoadState || 'not-found',
    activeState: p.ActiveState || 'inactive',
    subState: p.SubState || 'dead',
    unitFileState: p.UnitFileState ?? '',
    fragmentPath: p.FragmentPath ?? '',
    dropInPaths: (p.DropInPaths ?? '').split(' ').filter((s) => s !== ''),
    mainStart: parseUnixTimestamp(p.ExecMainStartTimestamp),
    stateChange: parseUnixTimestamp(p.StateChangeTimestamp),
    reloadResult: p.ReloadResult || undefined,
  };
}

export const unitCollector: FactCollector<UnitState> = {
  kind: 'unit',
  script: (keys) => (keys.length ? sh`systemctl show --no-pager --timestamp=unix -p ${PROPS} -- ${keys}` : sh`:`),
  parse(output, keys) {
    const blocks = output
      .split(/\n[ \t]*\n/)
      .map(parseBlock)
      .filter((p) => Object.keys(p).length > 0);
    if (blocks.length === keys.length) {
      return new Map(keys.map((k, i) => [k, toState(k, blocks[i]!)]));
    }
    const byId = new Map(blocks.filter((b) => b.Id).map((b) => [b.Id!, b]));
    return new Map(keys.map((k) => [k, byId.has(k) ? toState(k, byId.get(k)!) : notFoundUnit(k)]));
  },
};
