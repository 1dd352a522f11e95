/**
 * Secrets: vars whose values come from the environment or from a file outside the repo.
 * Their values are collected in `secretValues` so reporters can redact them; no message
 * built here ever contains one.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError } from './errors.js';
import { displayPath, resolvePath } from './paths.js';
import type { PosOf } from './yaml-source.js';

export interface SecretDecl {
  env?: string | undefined;
  file?: string | undefined;
}

export async function resolveSecrets(
  decls: Record<string, SecretDecl>,
  baseDir: string,
  env: NodeJS.ProcessEnv,
  posOf: PosOf,
): Promise<{ values: Map<string, string>; errors: ConfigError[] }> {
  const values = new Map<string, string>();
  const errors: ConfigError[] = [];
  for (const [name, decl] of Object.entries(decls)) {
    const has = (decl.env !== undefined ? 1 : 0) + (decl.file !== undefined ? 1 : 0);
    if (has !== 1) {
      errors.push(new ConfigError(`secret \`${name}\` needs exactly one of \`env\` or \`file\``, posOf(['secrets', name])));
      continue;
    }
    if (decl.env !== undefined) {
      const value = env[decl.env];
      if (value === undefined) {
        errors.push(new ConfigError(`secret \`${name}\`: environment variable ${decl.env} is not set`, posOf(['secrets', name, 'env']), `export ${decl.env} in the environment provision runs in`));
      } else values.set(name, value);
      continue;
    }
    const file = resolvePath(baseDir, decl.file!, env);
    try {
      // One trailing newline is what editors and `echo` add; it is never part of the secret.
      values.set(name, (await readFile(file, 'utf8')).replace(/\r?\n$/, ''));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`;
      errors.push(new ConfigError(`secret \`${name}\`: file ${displayPath(file)} ${why}`, posOf(['secrets', name, 'file'])));
    }
  }
  return { values, errors };
}
