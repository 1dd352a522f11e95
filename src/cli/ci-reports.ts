/** `--junit FILE` and `--format github` for check and apply: written after the run, exit codes untouched. */
import type { HostJob, HostResult, Mode } from '../engine/types.js';
import { ciHosts } from '../report/ci-steps.js';
import { githubAnnotations } from '../report/github.js';
import { writeJunit } from '../report/junit.js';
import type { Redactor } from '../report/redact.js';

export async function writeCiReports(opts: { junit?: string; format?: string }, results: HostResult[], jobs: HostJob[], mode: Mode, redactor: Redactor): Promise<void> {
  if (!opts.junit && opts.format !== 'github') return;
  const hosts = ciHosts(results, new Map(jobs.map((j) => [j.name, j.steps])), mode, redactor);
  if (opts.junit) await writeJunit(opts.junit, hosts, mode);
  if (opts.format === 'github') process.stdout.write(githubAnnotations(hosts));
}
