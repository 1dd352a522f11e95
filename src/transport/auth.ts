/**
 * Client authentication: the ordered list of methods ssh2 tries (its `authHandler` array
 * form), plus the human list of what was tried for the "authentication failed" message.
 * Order: ssh-agent first (when enabled and SSH_AUTH_SOCK is set), then identity files in
 * the order given, like OpenSSH.
 */
import { expandHome } from '../config/paths.js';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, ParsedKey } from 'ssh2';
import { ConnectionError } from '../config/errors.js';
import type { SshTarget } from './connection.js';

const { utils } = ssh2;

/** Where the passphrase of encrypted identity files comes from (never argv). */
export const PASSPHRASE_ENV = 'PROVISION_KEY_PASSPHRASE';

export interface AuthPlan {
  methods: AnyAuthMethod[];
  /** For messages: `agent`, `~/.ssh/id_ed25519`, ... */
  tried: string[];
}

/**
 * Identity files parsed once per run, not once per host: every host of an inventory
 * usually names the same key, and ssh2 would otherwise parse it twice per host (here to
 * check it, then again to sign). Reused only for the same bytes and passphrase.
 */
const parsedKeys = new Map<string, { data: Buffer; passphrase: string | undefined; parsed: ParsedKey | Error }>();

function parseIdentity(path: string, data: Buffer, passphrase: string | undefined): ParsedKey | Error {
  const seen = parsedKeys.get(path);
  if (seen && seen.passphrase === passphrase && seen.data.equals(data)) return seen.parsed;
  const parsed = utils.parseKey(data, passphrase);
  parsedKeys.set(path, { data, passphrase, parsed });
  return parsed;
}

/** Paths under the home directory shown as `~/...`, shorter in one-line messages. */
export function displayPath(path: string): string {
  const home = homedir();
  return path.startsWith(home + '/') ? '~' + path.slice(home.length) : path;
}

export async function planAuth(
  target: Pick<SshTarget, 'user' | 'identityFiles' | 'useAgent' | 'password'> & Partial<Pick<SshTarget, 'agentSocket'>>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<AuthPlan> {
  const methods: AnyAuthMethod[] = [];
  const tried: string[] = [];
  const username = target.user;
  const agentSock = target.useAgent ? (target.agentSocket ?? env.SSH_AUTH_SOCK) : undefined;
  if (agentSock) {
    methods.push({ type: 'agent', username, agent: agentSock });
    tried.push('agent');
  }
  const passphrase = env[PASSPHRASE_ENV];
  for (const given of target.identityFiles) {
    const path = expandHome(given, env);
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch (err) {
      // Default identity lists name files that often do not exist; skip them as ssh does.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new ConnectionError(`cannot read identity file ${displayPath(path)}: ${(err as Error).message}`);
    }
    const parsed = parseIdentity(path, data, passphrase);
    if (parsed instanceof Error) {
      const encrypted = /encrypted|passphrase/i.test(parsed.message);
      if (encrypted && passphrase === undefined) {
        // With an agent the key is probably loaded there; otherwise nothing can use it.
        if (agentSock) {
          tried.push(`${displayPath(path)} (encrypted, skipped)`);
          continue;
        }
        throw new ConnectionError(
          `identity file ${displayPath(path)} is encrypted; set ${PASSPHRASE_ENV} or load it into ssh-agent`,
        );
      }
      const why = encrypted ? 'wrong passphrase' : parsed.message;
      throw new ConnectionError(`cannot use identity file ${displayPath(path)}: ${why}`);
    }
    // The parsed (decrypted) key: ssh2 uses it as is instead of parsing the file again.
    methods.push({ type: 'publickey', username, key: parsed });
    tried.push(displayPath(path));
  }
  if (target.password !== undefined) {
    // After keys, as OpenSSH orders them. Servers doing passwords through PAM offer only
    // keyboard-interactive: answer its (echo-off) prompts with the same password.
    const password = target.password;
    methods.push({ type: 'password', username, password });
    methods.push({
      type: 'keyboard-interactive',
      username,
      prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map((p) => (p.echo ? '' : password))),
    });
    tried.push('password');
  }
  return { methods, tried };
}
