import { describe, expect, it } from 'vitest';
import { ansibleTrailingNewlines } from '../../../src/config/trailing-newlines.js';

// Expected values: what ansible-core 2.14's template module writes for the same source.
describe("a template file's trailing newlines, as Ansible writes them", () => {
  it('an expression whose value ends with a newline, then the final newline: one newline', () => {
    expect(ansibleTrailingNewlines('{{ y }}\n', 'a: 1\n\n')).toBe('a: 1\n');
  });
  it('plain text and expressions keep the source final newline(s)', () => {
    expect(ansibleTrailingNewlines('x = {{ v }}\n', 'x = 1\n')).toBe('x = 1\n');
    expect(ansibleTrailingNewlines('x\n\n', 'x\n\n')).toBe('x\n\n');
    expect(ansibleTrailingNewlines('x', 'x')).toBe('x');
  });
  it('a final block tag (its newline eaten by trim_blocks) leaves the output as rendered', () => {
    expect(ansibleTrailingNewlines('{% for a in b %}\n{{ a }}\n{% endfor %}\n', '1\n2\n')).toBe('1\n2\n');
    // ...padded when the output has fewer newlines than the source (test/fixtures/config/valid/templates/guarded.njk).
    expect(ansibleTrailingNewlines('{% if e %}{{ e }}{% endif %}\n{% for a in b %}\n{% endfor %}\n', 'x')).toBe('x\n');
  });
});
