import os from 'node:os';
import { TemplateEngine } from '../../../../src/config/templates.js';

/**
 * Expected values in these tests are Jinja's documented results, checked against
 * ansible-core 2.14 (Jinja 3.1) rendering the same expression (`Templar.template`).
 */
const engine = new TemplateEngine(os.tmpdir());
const pos = { file: 'test.yaml', line: 1, col: 1 };

/** The value of a Jinja expression (lists and maps as data). */
export const value = (expr: string, vars: object = {}): unknown => engine.evaluate(expr, vars, pos);
/** A template's text output. */
export const render = (text: string, vars: object = {}): string => engine.renderString(text, vars, pos);
