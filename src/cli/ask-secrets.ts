/**
 * Secrets the run needs but the environment does not hold: asked once each on the
 * terminal, before anything connects (and before the live display takes the screen).
 * - the sudo password of hosts whose `sudo_password_env` variable is unset;
 * - the passphrase of an encrypted identity file when PROVISION_KEY_PASSPHRASE is unset
 *   and no agent is available.
 * Answers go into this process's environment only (no child process is ever given it,
 * nothing is written) and are returned so the caller masks them in every output.
 * Without a terminal nothing is asked: the existing clear errors stand.
 */
import { readFile } from 'node:fs/promises';
import ssh2 from 'ssh2';
import type { HostConfig } from '../config/inventory.js';
import { PASSPHRASE_ENV } from '../transport/auth.js';
import { promptHidden } from './prompt.js';

function isEncryptedKey(data: Buffer): boolean {
  const parsed = ssh2.utils.parseKey(data);
  return parsed instanceof Error && /encrypted|passphrase/i.test(parsed.message);
}

export async function askMissingSecrets(hosts: HostConfig[], env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  if (!process.stdin.isTTY) return [];
  const answers: string[] = [];
  const sudoVars = new Map<string, string[]>();
  for (const h of hosts) {
    const v = h.connection.sudoPasswordEnv;
    if (h.connection.sudo && v && !env[v]) sudoVars.set(v, [...(sudoVars.get(v) ?? []), h.name]);
  }
  for (const [v, names] of sudoVars) {
    const shown = names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', ');
    const answer = await promptHidden(`sudo password for ${shown} (${v} is not set): `);
    env[v] = answer;
    answers.push(answer);
  }
  if (!env[PASSPHRASE_ENV] && !env.SSH_AUTH_SOCK) {
    const files = [...new Set(hosts.flatMap((h) => h.connection.identity))];
    for (const f of files) {
      const data = await readFile(f).catch(() => null);
      if (data && isEncryptedKey(data)) {
        const answer = await promptHidden(`passphrase for ${f}: `);
        env[PASSPHRASE_ENV] = answer;
        answers.push(answer);
        break;
      }
    }
  }
  return answers;
}
