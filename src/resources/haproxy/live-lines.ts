/**
 * The parts of haproxy.cfg that the `haproxy_servers` step applies through the admin
 * socket: on the `server` line of a declared static server given by IP address, its
 * address and port (`set server B/S addr A port P`), its `weight` (`set server B/S weight
 * W`) and `disabled` (`set server B/S state maint|ready`). Masking them in two versions of
 * the file tells whether a change is confined to what the socket applies without a reload
 * (engine/live-changes.ts). Everything else (another keyword, a server added, removed or
 * renamed, a host name, a line outside the declared backends) stays and so needs a reload.
 * Pure.
 */
import { isIpLiteral, type Declared } from './declared.js';

const SECTION = /^(global|defaults|frontend|backend|listen|resolvers|peers|userlist|mailers|program|http-errors|ring|cache)\b\s*(\S*)/;
const SERVER = /^(\s*server\s+)(\S+)(\s+)(\S+)(.*)$/;

/** `A:P` (IPv6 `[A]:P` or `A:P` with the last colon) -> [address, port]; null without a port. */
function splitAddr(word: string): [string, string] | null {
  const i = word.lastIndexOf(':');
  if (i <= 0) return null;
  return [word.slice(0, i).replace(/^\[(.*)\]$/, '$1'), word.slice(i + 1)];
}

/** One `server` line with its live parts replaced, or the line unchanged. */
function maskServer(line: string, backend: string, live: Set<string>): string {
  const m = SERVER.exec(line);
  if (!m || !live.has(`${backend}/${m[2]}`)) return line;
  const addr = splitAddr(m[4]!);
  if (!addr || !isIpLiteral(addr[0]) || !/^\d+$/.test(addr[1])) return line;
  const rest = m[5]!.replace(/\s+weight\s+\d+(?=\s|$)/g, '').replace(/\s+disabled(?=\s|$)/g, '');
  return `${m[1]}${m[2]}${m[3]}<live>${rest}`;
}

export function maskLiveLines(decl: Declared, text: string): string {
  const live = new Set(decl.servers.filter((s) => isIpLiteral(s.address)).map((s) => `${s.backend}/${s.name}`));
  let backend = '';
  return text
    .split('\n')
    .map((line) => {
      const sec = SECTION.exec(line);
      if (sec) backend = sec[1] === 'backend' || sec[1] === 'listen' ? sec[2]! : '';
      return backend ? maskServer(line, backend, live) : line;
    })
    .join('\n');
}
