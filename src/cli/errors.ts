/**
 * Printing of errors before any host runs: config errors one per line, never a stack;
 * with `verbose`, an error's long form (`detail`: the tool's own message) indented below.
 */
import { ConfigErrors, ProvisionError } from '../config/errors.js';
import { Redactor } from '../report/redact.js';

export function printError(e: unknown, redactor = new Redactor([]), verbose = false): number {
  if (e instanceof ConfigErrors) {
    for (const err of e.errors) process.stderr.write(`error: ${redactor.redact(err.shortMessage)}\n`);
    if (e.errors.length > 1) process.stderr.write(`${e.errors.length} errors; nothing was changed\n`);
    return 1;
  }
  if (e instanceof ProvisionError) {
    process.stderr.write(`error: ${redactor.redact(e.shortMessage)}\n`);
    if (verbose && e.detail) process.stderr.write(`${redactor.redact(e.detail.replace(/^/gm, '    '))}\n`);
    return 1;
  }
  throw e;
}
