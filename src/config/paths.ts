/**
 * Path helpers shared by the loaders: `~` expansion, resolution relative to the file that
 * names a path, and the short form used in error messages.
 */
import { homedir } from 'node:os';
import path from 'node:path';

export function expandHome(p: string, env: NodeJS.ProcessEnv = process.env): string {
  if (p === '~') return env.HOME ?? homedir();
  if (p.startsWith('~/')) return path.join(env.HOME ?? homedir(), p.slice(2));
  return p;
}

/** `p` with `~` expanded, made absolute relative to `baseDir`. */
export function resolvePath(baseDir: string, p: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(baseDir, expandHome(p, env));
}

/** Relative to the working directory when inside it (shorter messages), else absolute. */
export function displayPath(abs: string): string {
  const rel = path.relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : abs;
}
