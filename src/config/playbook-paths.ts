/**
 * How a playbook reference becomes a file: a bare name (`lb`) is looked up in the
 * playbooks directory as `lb.yaml` (or `lb.yml`); anything with a slash or a .yaml/.yml
 * extension is a path relative to the file that mentions it.
 */
import { access, readdir } from 'node:fs/promises';
import path from 'node:path';
import { expandHome } from './paths.js';

export function isPlaybookPath(ref: string): boolean {
  return ref.includes('/') || /\.ya?ml$/.test(ref);
}

/** Candidate files for a reference, most likely first. */
export function playbookCandidates(ref: string, namesDir: string, relativeTo: string): string[] {
  if (isPlaybookPath(ref)) {
    const file = path.resolve(relativeTo, expandHome(ref));
    return /\.ya?ml$/.test(ref) ? [file] : [file, `${file}.yaml`, `${file}.yml`];
  }
  return [path.join(namesDir, `${ref}.yaml`), path.join(namesDir, `${ref}.yml`)];
}

/** The first existing candidate, or undefined. */
export async function findPlaybook(ref: string, namesDir: string, relativeTo: string): Promise<string | undefined> {
  for (const file of playbookCandidates(ref, namesDir, relativeTo)) {
    try {
      await access(file);
      return file;
    } catch {
      /* try the next candidate */
    }
  }
  return undefined;
}

/** Playbook names (files without .yaml/.yml) in `dir`, for "did you mean". */
export async function listPlaybookNames(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).map((f) => f.replace(/\.ya?ml$/, ''));
  } catch {
    return [];
  }
}
