/** `provision report merge A.json B.json ...`: one summary and one exit code for N shard jobs. */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { asHostResults, exitCodeOf, mergeReports, MergeError, parseReport } from '../report/merge.js';
import { summaryTable } from '../report/summary.js';

export async function reportMergeCommand(files: string[], opts: { json?: string }): Promise<number> {
  try {
    const reports = [];
    for (const file of files) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        throw new MergeError(`${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); did that shard's job finish?`);
      }
      reports.push({ file, report: parseReport(file, text) });
    }
    const merged = mergeReports(reports);
    if (opts.json) {
      const tmp = `${opts.json}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(merged, null, 2) + '\n', { mode: 0o600 });
      await rename(tmp, opts.json);
    }
    const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
    process.stdout.write(`${summaryTable(asHostResults(merged), merged.mode, color)}\n`);
    process.stdout.write(`${merged.hosts.length} hosts from ${files.length} reports (${merged.mode})\n`);
    return exitCodeOf(merged.mode, merged.hosts);
  } catch (e) {
    if (e instanceof MergeError) {
      process.stderr.write(`error: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
