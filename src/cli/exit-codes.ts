/** The exit codes each command can end with, as `--help` lists them (README: Commands). */
export const EXIT_CODES: Record<string, string> = {
  apply: 'Exit codes: 0 success, 1 a host failed or was unreachable (or bad input), 130 interrupted (Ctrl-C).',
  check: 'Exit codes: 0 in sync, 2 drift found, 1 a host failed or was unreachable (or bad input), 130 interrupted (Ctrl-C).',
  bootstrap: 'Exit codes: 0 every host bootstrapped, 1 any failure (or bad input), 130 interrupted (Ctrl-C).',
  validate: 'Exit codes: 0 valid, 1 bad input.',
};

/** `--help` text after the options. */
export const exitCodesHelp = (command: string): string => `\n${EXIT_CODES[command] ?? ''}`;
