/**
 * Secrets: vars whose values come from the environment or from a file outside the repo.
 * Their values are collected in `secretValues` so reporters can redact them; no message
 * built here ever contains one (nor a byte of one).
 *
 * A secret file is refused, like OpenSSH refuses a private key, when its group or other
 * users may read or write it, when it is not a regular file, and when it is not UTF-8
 * text (secrets are rendered into text; a binary key goes base64-encoded).
 */
import { stat } from 'node:fs/promises';
import { ConfigError, type SourcePos } from './errors.js';
import { displayPath, resolvePath } from './paths.js';
import { readConfigBytes, readProblem } from './read-text.js';
import { invalidUtf8At } from './utf8.js';
import type { PosOf } from './yaml-source.js';

export interface SecretDecl {
  env?: string | undefined;
  file?: string | undefined;
}

/** A secret's value and where the inventory declares it (for messages naming it). */
export interface SecretInfo {
  value: string;
  pos: SourcePos;
}

/** A secret file's mode must not give group or others any access (as OpenSSH: 0077). */
const OTHERS_MASK = 0o077;
const MAX_SECRET_BYTES = 1024 * 1024;

export async function resolveSecrets(
  decls: Record<string, SecretDecl>,
  baseDir: string,
  env: NodeJS.ProcessEnv,
  posOf: PosOf,
): Promise<{ values: Map<string, string>; info: Map<string, SecretInfo>; errors: ConfigError[] }> {
  const values = new Map<string, string>();
  const info = new Map<string, SecretInfo>();
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
      } else {
        values.set(name, value);
        info.set(name, { value, pos: posOf(['secrets', name], 'key') });
      }
      continue;
    }
    try {
      const value = await readSecretFile(name, resolvePath(baseDir, decl.file!, env), posOf(['secrets', name, 'file']));
      values.set(name, value);
      info.set(name, { value, pos: posOf(['secrets', name], 'key') });
    } catch (e) {
      if (e instanceof ConfigError) errors.push(e);
      else throw e;
    }
  }
  return { values, info, errors };
}

async function readSecretFile(name: string, file: string, at: SourcePos): Promise<string> {
  const shown = displayPath(file);
  let mode: number;
  try {
    mode = (await stat(file)).mode;
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : readProblem(err);
    throw new ConfigError(`secret \`${name}\`: file ${shown} ${why}`, at);
  }
  if ((mode & 0o170000) === 0o100000 && (mode & OTHERS_MASK) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, '0');
    throw new ConfigError(`secret \`${name}\`: file ${shown} is accessible by other users (mode ${octal})`, at, `run \`chmod 600 ${shown}\``);
  }
  const bytes = await readConfigBytes(file, `secret \`${name}\`: file`, at, MAX_SECRET_BYTES);
  const bad = invalidUtf8At(bytes);
  if (bad) {
    // Never the byte itself, nor its line: both would tell something about the secret.
    throw new ConfigError(`secret \`${name}\`: file ${shown} is not valid UTF-8 text (offset ${bad.offset})`, at, 'store a binary secret base64-encoded: `base64 -w0 FILE`');
  }
  // One trailing newline is what editors and `echo` add; it is never part of the secret.
  return bytes.toString('utf8').replace(/\r?\n$/, '');
}
