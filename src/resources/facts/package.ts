/**
 * Package facts: ONE `dpkg-query -W` over every package name. dpkg-query prints one line per
 * known package (sorted by name, not in argument order) and nothing for unknown names, so
 * the parser matches lines to keys by name.
 */
import { sh } from '../sh.js';
import type { FactCollector, PackageState } from './types.js';

/** The format both the probe and the apt apply fragment use: name TAB status TAB version. */
export const DPKG_QUERY_FORMAT = '${Package}\\t${db:Status-Abbrev}\\t${Version}\\n';

/** `ii` installed, `hi` installed and held: what counts as installed. */
export function isInstalled(state: PackageState | null | undefined): boolean {
  return !!state && /^[ih]i/.test(state.status);
}

/** `haproxy:amd64` -> `haproxy`: dpkg-query prints the bare name. */
function bareName(key: string): string {
  const i = key.indexOf(':');
  return i < 0 ? key : key.slice(0, i);
}

export const packageCollector: FactCollector<PackageState | null> = {
  kind: 'package',
  // No keys: `dpkg-query -W` without names would list every package.
  script: (keys) => (keys.length ? sh`dpkg-query -W -f=${DPKG_QUERY_FORMAT} -- ${keys}` : sh`:`),
  parse(output, keys) {
    const seen = new Map<string, PackageState>();
    for (const line of output.split('\n')) {
      const [name, status, version] = line.split('\t');
      if (!name || status === undefined || version === undefined) continue;
      const prev = seen.get(name);
      // Several architectures of one package: an installed one wins.
      if (!prev || (!isInstalled(prev) && isInstalled({ status, version }))) seen.set(name, { status, version });
    }
    return new Map(keys.map((k) => [k, seen.get(k) ?? seen.get(bareName(k)) ?? null]));
  },
};
