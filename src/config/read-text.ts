/**
 * Reading a config file (inventory, playbook, template, secret) the same careful way:
 * refused at once when it is not a regular file (`/dev/zero` or a FIFO would be read for
 * minutes and end in `RangeError: Invalid string length`) or larger than any config file
 * should be, decoded as strict UTF-8, and every failure said in the user's words (no
 * `EISDIR`/`EACCES` text), at the place that names the file.
 */
import { constants, type Stats } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { ConfigError, type SourcePos } from './errors.js';
import { displayPath } from './paths.js';
import { decodeUtf8 } from './utf8.js';

/** No inventory, playbook or template is anywhere near this; a larger file is a mistake. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** Why a file cannot be read, in words: "is a directory", "cannot be read: permission denied"... */
export function readProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'not found';
    case 'EISDIR':
      return 'is a directory, not a file';
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read: permission denied';
    case 'ENOTDIR':
      return 'not found (a parent in its path is a file, not a directory)';
    case 'ELOOP':
      return 'cannot be read: too many levels of symbolic links';
    default:
      return `cannot be read (${code ?? String(err)})`;
  }
}

function fileType(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a file';
}

/** Why `abs` is not a readable regular file, in words; undefined when it is one. */
export async function fileProblem(abs: string): Promise<string | undefined> {
  try {
    const st = await stat(abs);
    if (st.isDirectory()) return readProblem({ code: 'EISDIR' });
    if (!st.isFile()) return `is not a regular file (${fileType(st)})`;
    await access(abs, constants.R_OK);
    return undefined;
  } catch (err) {
    return readProblem(err);
  }
}

/** Reads `abs` as bytes after checking it is a regular file of a sane size; ConfigError at `from` otherwise. */
export async function readConfigBytes(abs: string, what: string, from?: SourcePos, max = MAX_CONFIG_BYTES): Promise<Buffer> {
  const shown = displayPath(abs);
  // What is wrong with the file itself is said at the file (line 1) when nothing names it.
  const self = from ?? { file: shown, line: 1, col: 1 };
  let size: number;
  try {
    const st = await stat(abs);
    if (st.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    if (!st.isFile()) throw new ConfigError(`${what} ${shown} is not a regular file (${fileType(st)})`, self, 'name a file; devices, FIFOs and sockets are refused');
    size = st.size;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${what} ${shown} ${readProblem(err)}`, from);
  }
  if (size > max) {
    throw new ConfigError(`${what} ${shown} is ${(size / 1024 / 1024).toFixed(1)} MiB, more than the ${max / 1024 / 1024} MiB such a file may have`, self, 'is this the right file?');
  }
  try {
    return await readFile(abs);
  } catch (err) {
    throw new ConfigError(`${what} ${shown} ${readProblem(err)}`, from);
  }
}

/** `readConfigBytes`, then strict UTF-8 (an invalid byte is an error at its own line and column). */
export async function readConfigText(abs: string, what: string, from?: SourcePos): Promise<string> {
  return decodeUtf8(await readConfigBytes(abs, what, from), displayPath(abs), what);
}
