/**
 * The restore journal of an apply (see restore-script.ts for the format): where it lives
 * and the sh functions the apply script uses to write it. Kept apart from the restore
 * script so that the apply script can use it without importing the restore.
 */
import { sh, type Sh } from '../resources/sh.js';
import { shLibrary } from '../resources/sh-lib.js';

export function journalDir(lockFile: string): string {
  return `${lockFile}.restore`;
}

/** Appended to the apply script's library: the real `_jsave` (sh-lib's is a no-op). */
export const JOURNAL_LIB = shLibrary('journal');

/** The apply script's line that starts this run's journal (after the lock is taken). */
export function journalStart(lockFile: string, holder: string): Sh {
  return sh`_jinit ${journalDir(lockFile)} ${holder}`;
}

