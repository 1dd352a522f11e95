/**
 * The steps `provision bootstrap` runs, built from the ordinary step types (pure): no
 * bootstrap-only apply logic exists, so probe, diff, guarded apply, validation and the
 * "nothing to do" of a second run all come from the engine.
 *
 *   base:   apt packages (sudo first: visudo validates the drop-in), the provisioning user,
 *           ~/.ssh 0700, authorized_keys 0600, the sudoers drop-in (validated by visudo)
 *   harden: an sshd drop-in validated against the whole effective configuration, then
 *           `reload ssh` as its handler; run only after the login proof.
 */
import { aptResource } from '../resources/apt.js';
import { directoryResource } from '../resources/directory.js';
import { fileResource, type FileSpec } from '../resources/file.js';
import { joinSh, sh, type Sh } from '../resources/sh.js';
import { serviceResource } from '../resources/service.js';
import { sudoersResource } from '../resources/sudoers.js';
import type { ResourceType } from '../resources/types.js';
import { userResource } from '../resources/user.js';
import type { ResolvedHandler, ResolvedStep } from './types.js';

export const DEFAULT_SUDO_RULE = 'ALL=(ALL) NOPASSWD:ALL';

/**
 * sshd keeps the FIRST value it reads for a keyword and Debian's sshd_config includes
 * sshd_config.d/*.conf in C-locale order before its own lines, so the drop-in must sort
 * before the others (a cloud image's 50-cloud-init.conf says `PasswordAuthentication yes`).
 * The validation below checks the effective result anyway.
 */
export const SSHD_DROPIN = '/etc/ssh/sshd_config.d/00-provision.conf';
export const SSHD_RELOAD_HANDLER = 'reload ssh';

export const SSHD_HARDENING = [
  '# provision bootstrap: keys only; root may log in with a key, never with a password',
  'PasswordAuthentication no',
  'KbdInteractiveAuthentication no',
  'PermitRootLogin prohibit-password',
  '',
].join('\n');

/** `sshd -T` lines the hardened configuration must produce (9.x prints without-password). */
const EFFECTIVE: [string, string][] = [
  ['passwordauthentication no', 'passwordauthentication no'],
  ['kbdinteractiveauthentication no', 'kbdinteractiveauthentication no'],
  ['permitrootlogin (prohibit-password|without-password)', 'permitrootlogin prohibit-password'],
];

/**
 * The `validate` command of the sshd drop-in (`%s` is the staged file). `sshd -t` reads
 * the whole configuration, and the staged file is hidden (`.provision-*`), so sshd's
 * `Include sshd_config.d/*.conf` would not see it: build a view of the configuration with
 * the staged file under its real name (a copy of sshd_config.d, sshd_config with its
 * Include pointed at the copy), check its syntax with `sshd -t`, and check with `sshd -T`
 * that the hardening is in effect (an earlier drop-in, or a main config that includes no
 * drop-ins, would silently win: then nothing is installed and the reason is shown).
 */
export function sshdValidateCommand(dropin = SSHD_DROPIN): Sh {
  const dir = dropin.slice(0, dropin.lastIndexOf('/'));
  const base = dropin.slice(dropin.lastIndexOf('/') + 1);
  const includeRe = sh`^\\([[:space:]]*[Ii][Nn][Cc][Ll][Uu][Dd][Ee][[:space:]]\\{1,\\}\\)\\(/etc/ssh/\\)\\{0,1\\}sshd_config\\.d/`;
  // No `%s` here but the staged file: `validate` substitutes every one of them.
  const checks = EFFECTIVE.map(([re, want]) => {
    const key = want.split(' ')[0]!;
    const why = `sshd would not apply \`${want}\` (an earlier setting wins, or sshd_config does not include sshd_config.d); sshd -T says:`;
    return sh`  echo "$_e" | grep -Eqx ${re} || { echo ${why} "$(echo "$_e" | grep -E ${`^${key} `})" >&2; exit 1; }`;
  });
  return joinSh([
    sh`( _d=$(mktemp -d /tmp/.provision-sshd.XXXXXX) || exit 1`,
    sh`  trap 'rm -rf -- "$_d"' EXIT`,
    sh`  mkdir -- "$_d/d" || exit 1`,
    sh`  for _f in ${dir}/*.conf; do [ -e "$_f" ] && { cp -p -- "$_f" "$_d/d/" || exit 1; }; done`,
    sh`  cp -p -- %s "$_d/d/"${base} || exit 1`,
    sh`  sed "s#${includeRe}#\\\\1$_d/d/#" /etc/ssh/sshd_config > "$_d/sshd_config" || exit 1`,
    sh`  /usr/sbin/sshd -t -f "$_d/sshd_config" || exit 1`,
    sh`  _e=$(/usr/sbin/sshd -T -f "$_d/sshd_config") || exit 1`,
    ...checks,
    sh`)`,
  ]);
}

/** What one host's bootstrap converges to (already merged from inventory and CLI). */
export interface BootstrapSpec {
  /** The provisioning user (created unless `root`). */
  user: string;
  home: string;
  /** authorized_keys content: the public keys, one per line. */
  authorizedKeys: string;
  /** Sudoers rule after the user name; null = no drop-in. */
  sudoRule: string | null;
  packages: string[];
  aptCacheMaxAge: number;
  hardenSsh: boolean;
}

/** Step body errors (bad user name, package name...) as one line each. */
export class BootstrapSpecError extends Error {}

function parse<S>(type: ResourceType<S, unknown>, body: unknown, what: string, asHandler = false): S {
  const r = type.schema.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new BootstrapSpecError(`bootstrap ${what}${issue.path.length ? ` (${issue.path.join('.')})` : ''}: ${issue.message}`);
  }
  // A handler may restart or reload: the step-only checks do not apply (as in expand.ts).
  const problem = asHandler ? null : type.check?.(r.data);
  if (problem) throw new BootstrapSpecError(`bootstrap ${what}: ${problem}`);
  return r.data;
}

function step(index: number, name: string, type: ResourceType, spec: unknown, notify: string[] = []): ResolvedStep {
  return { index, name, kind: type.kind, type, spec, notify, where: 'provision bootstrap' };
}

function fileStep(index: number, name: string, body: Omit<FileSpec, 'bytes'>, notify: string[] = []): ResolvedStep {
  const spec = parse(fileResource, body, name);
  return step(index, name, fileResource, { ...spec, bytes: Buffer.from(spec.content ?? '', 'utf8') }, notify);
}

/** The sudoers drop-in name: `provision-USER` (no `.`: sudo would ignore the file). */
export function sudoersName(user: string): string {
  return `provision-${user.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** Packages, user, ~/.ssh, authorized_keys, sudoers; indexes from `first`. */
export function baseSteps(b: BootstrapSpec, first = 0): ResolvedStep[] {
  const out: ResolvedStep[] = [];
  let i = first;
  const root = b.user === 'root';
  const packages = [...new Set([...(b.sudoRule !== null && !root ? ['sudo'] : []), ...b.packages])];
  if (packages.length) {
    out.push(step(i++, `packages ${packages.join(' ')}`, aptResource, parse(aptResource, { packages, cache_max_age: b.aptCacheMaxAge }, 'packages')));
  }
  const owner = root ? { owner: 'root', group: 'root' } : { owner: b.user, group: b.user };
  if (!root) {
    out.push(step(i++, `user ${b.user}`, userResource, parse(userResource, { name: b.user, home: b.home, create_home: true, shell: '/bin/bash' }, 'user')));
  }
  out.push(step(i++, `${b.home}/.ssh`, directoryResource, parse(directoryResource, { path: `${b.home}/.ssh`, mode: '0700', ...owner }, 'ssh directory')));
  out.push(fileStep(i++, `${b.home}/.ssh/authorized_keys`, { dest: `${b.home}/.ssh/authorized_keys`, content: b.authorizedKeys, mode: '0600', ...owner }));
  if (b.sudoRule !== null && !root) {
    const name = sudoersName(b.user);
    out.push(step(i++, `sudoers ${name}`, sudoersResource, parse(sudoersResource, { name, content: `${b.user} ${b.sudoRule}\n` }, 'sudo rule')));
  }
  return out;
}

/** The sshd drop-in (notifying the reload); indexes from `first`. */
export function hardenSteps(first: number): { steps: ResolvedStep[]; handlers: Map<string, ResolvedHandler> } {
  const steps = [
    fileStep(
      first,
      `sshd hardening ${SSHD_DROPIN}`,
      { dest: SSHD_DROPIN, content: SSHD_HARDENING, mode: '0644', owner: 'root', group: 'root', validate: sshdValidateCommand().text },
      [SSHD_RELOAD_HANDLER],
    ),
  ];
  const reload = parse(serviceResource, { name: 'ssh', state: 'reloaded' }, 'ssh reload', true);
  const handlers = new Map<string, ResolvedHandler>([
    [SSHD_RELOAD_HANDLER, { name: SSHD_RELOAD_HANDLER, kind: 'service', type: serviceResource, spec: reload }],
  ]);
  return { steps, handlers };
}

/** `/root` for root, else `/home/USER`. */
export function defaultHome(user: string): string {
  return user === 'root' ? '/root' : `/home/${user}`;
}
