/**
 * Trailing newlines of a rendered template FILE as Ansible's `template` module leaves
 * them. Jinja drops the template's final newline (keep_trailing_newline=False); Ansible
 * then pads the result back to as many trailing newlines as the template source has, never
 * fewer than the result already has. So `{{ x | to_nice_yaml }}\n` gives ONE newline at
 * the end (to_nice_yaml's), where nunjucks alone would give two.
 *
 * nunjucks keeps the final newline unless trimBlocks ate it (the source ends with a block
 * tag, `%}`), which is where Jinja's output already ends without it.
 */
const trailing = (s: string): number => s.length - s.replace(/\n+$/, '').length;

export function ansibleTrailingNewlines(source: string | undefined, rendered: string): string {
  if (source === undefined || !source.endsWith('\n')) return rendered;
  const jinja = /%}\r?\n$/.test(source) || !rendered.endsWith('\n') ? rendered : rendered.slice(0, -1);
  const missing = trailing(source) - trailing(jinja);
  return missing > 0 ? jinja + '\n'.repeat(missing) : jinja;
}
