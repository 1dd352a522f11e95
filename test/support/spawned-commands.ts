/**
 * Finds the commands the suite, the demo and the benchmark run on the controller, by
 * reading the TypeScript sources (the compiler's parser, not regexps over code):
 *
 * - direct spawns: the literal first argument of child_process calls and of the
 *   project's wrappers (WRAPPERS below: `run` of the harness, `measure` of the bench,
 *   ...), or a file-level `const X = '/usr/sbin/sshd'` it names;
 * - shell text run locally: `sh -c TEXT`, `execSync(TEXT)`, and the run-sh helpers
 *   (`sh(TEXT)`, `runFragment(TEXT)`): every word in command position;
 * - the scripts in src/ (probe and apply, which the unit tests run in a local `sh`):
 *   words in command position of src's string literals that name an executable
 *   installed on this machine (prose in messages names none).
 *
 * Used by test/unit/controller-packages.test.ts against the declared list.
 */
import ts from 'typescript';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface CommandUse {
  command: string;
  /** `file:line` of the call or literal. */
  at: string;
}

const CHILD_PROCESS = new Set(['spawn', 'spawnSync', 'execFile', 'execFileSync', 'spawnDetached']);
const SHELL_TEXT_CALLS = new Set(['execSync']);
/** The project's own spawn wrappers (first argument: the command) and the modules defining them. */
const WRAPPERS: Record<string, RegExp> = {
  run: /(^|\/)(test\/hosts\/exec|test\/standins\/debian-tools)(\.js)?$/,
  measure: /(^|\/)bench\/measure(\.js)?$/,
  first: /(^|\/)bench\/setup(\.js)?$/,
};
const LOCAL_SHELL_MODULES = /(^|\/)run-sh(\.js)?$/;
const SHELLS = new Set(['sh', 'bash', 'dash']);

/** Shell syntax and builtins of dash and bash: never a package's command. */
const NOT_COMMANDS = new Set(
  ('if then else elif fi for while until do done case esac in function select time ! { } [ [[ ]] test : . ' +
    'true false echo printf read local return exit set unset export readonly trap shift cd eval exec wait ' +
    'kill command type umask break continue ulimit getopts hash times alias unalias pwd source let declare').split(' '),
);
/** Words that run the next word: `sudo -n systemctl ...` runs both. */
const COMMAND_PREFIXES = new Set(['sudo', 'env', 'nohup', 'timeout']);
const PREFIXES = new Set(['exec', 'sudo', 'env', 'nohup', 'timeout', 'then', 'else', 'do', 'elif', 'if', 'while', 'until', '!', 'time']);

export function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** The text of a string or template literal; `${...}` becomes the placeholder word `\u0000`. */
function literalText(node: ts.Node): string | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node)) return node.head.text + node.templateSpans.map((s) => `\u0000${s.literal.text}`).join('');
  return undefined;
}

/** The words in command position of a shell text (split on ; | & && || newlines, $( and grouping). */
export function shellCommandWords(text: string, opts: { backtickIsShell?: boolean } = {}): string[] {
  const separators = opts.backtickIsShell === false ? /\|\||&&|[;|&\n]|\$\(|[(){}]/ : /\|\||&&|[;|&\n`]|\$\(|[(){}]/;
  const out: string[] = [];
  for (const segment of text.split(separators)) {
    const words = segment.trim().split(/\s+/).filter(Boolean);
    let i = 0;
    while (i < words.length && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!) || PREFIXES.has(words[i]!) || (i > 0 && words[i]!.startsWith('-')))) {
      if (COMMAND_PREFIXES.has(words[i]!)) out.push(words[i]!);
      i++;
    }
    const word = words[i];
    if (!word || !/^\/?[a-z][a-z0-9._+/-]*$/.test(word)) continue;
    const name = basename(word);
    if (!NOT_COMMANDS.has(name) && !name.startsWith('_')) out.push(name);
  }
  return out;
}

/** Whether the file imports `name` from a module whose path (resolved from the file) matches. */
function importsFrom(sf: ts.SourceFile, name: string, module: RegExp): boolean {
  return sf.statements.some(
    (s) =>
      ts.isImportDeclaration(s) &&
      ts.isStringLiteral(s.moduleSpecifier) &&
      module.test(join(dirname(sf.fileName), s.moduleSpecifier.text)) &&
      s.importClause?.namedBindings !== undefined &&
      ts.isNamedImports(s.importClause.namedBindings) &&
      s.importClause.namedBindings.elements.some((e) => e.name.text === name),
  );
}

/** File-level `const NAME = 'literal'` bindings, to resolve `spawn(SSHD, ...)`. */
function stringConsts(sf: ts.SourceFile): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of sf.statements) {
    if (!ts.isVariableStatement(s)) continue;
    for (const d of s.declarationList.declarations) {
      const text = d.initializer && literalText(d.initializer);
      if (ts.isIdentifier(d.name) && text !== undefined && !text.includes('\u0000')) out.set(d.name.text, text);
    }
  }
  return out;
}

function commandsOfCall(call: ts.CallExpression, sf: ts.SourceFile, consts: Map<string, string>, file: string): string[] {
  const callee = call.expression;
  if (!ts.isIdentifier(callee) || call.arguments.length === 0) return [];
  const name = callee.text;
  const first = call.arguments[0]!;
  const firstText = literalText(first) ?? (ts.isIdentifier(first) ? consts.get(first.text) : undefined);
  if (firstText === undefined) return [];
  const module = Object.hasOwn(WRAPPERS, name) ? WRAPPERS[name] : undefined;
  const isWrapper = module !== undefined && (module.test(file.replace(/\.ts$/, '')) || importsFrom(sf, name, module));
  if (CHILD_PROCESS.has(name) || isWrapper) {
    const command = basename(firstText);
    const args = call.arguments[1];
    if (SHELLS.has(command) && args && ts.isArrayLiteralExpression(args)) {
      const c = args.elements.findIndex((e) => literalText(e) === '-c');
      const script = c >= 0 ? args.elements[c + 1] : undefined;
      const text = script && literalText(script);
      return [command, ...(text ? shellCommandWords(text) : [])];
    }
    return [command];
  }
  if (SHELL_TEXT_CALLS.has(name)) return shellCommandWords(firstText);
  if ((name === 'sh' || name === 'runFragment') && importsFrom(sf, name, LOCAL_SHELL_MODULES)) return shellCommandWords(firstText);
  return [];
}

/** Every command that test/ and bench/ code runs on the controller. */
export function controllerCommandUses(dirs: readonly string[]): CommandUse[] {
  const uses: CommandUse[] = [];
  for (const file of dirs.flatMap(tsFiles)) {
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const consts = stringConsts(sf);
    const visit = (node: ts.Node): void => {
      // A browser or tool launched by a library: `executablePath: '/usr/bin/chromium'`.
      if (ts.isPropertyAssignment(node) && ts.isIdentifier(node.name) && node.name.text === 'executablePath') {
        const path = literalText(node.initializer);
        const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
        if (path !== undefined) uses.push({ command: basename(path), at: `${file}:${line}` });
      }
      if (ts.isCallExpression(node)) {
        const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
        for (const command of commandsOfCall(node, sf, consts, file)) uses.push({ command, at: `${file}:${line}` });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return uses.filter((u) => !u.command.includes('\u0000'));
}

const SHELL_LIKE = /\$|\s-{1,2}[A-Za-z]|[<>|]/;
const BIN_DIRS = ['/usr/bin', '/usr/sbin', '/bin', '/sbin'];
export const isInstalledExecutable = (name: string): boolean => BIN_DIRS.some((d) => existsSync(join(d, name)));

/** Commands in src's shell text (probe and apply scripts) that name an installed executable. */
export function scriptCommandUses(dirs: readonly string[], known: (name: string) => boolean): CommandUse[] {
  const uses: CommandUse[] = [];
  for (const file of dirs.filter((d) => d.endsWith('.sh'))) {
    // The remote sh library (sh/*.sh): every line is shell text.
    readFileSync(file, 'utf8').split('\n').forEach((text, i) => {
      for (const command of shellCommandWords(text.replace(/(^|\s)#.*$/, ''), { backtickIsShell: false })) {
        if (known(command) || isInstalledExecutable(command)) uses.push({ command, at: `${file}:${i + 1}` });
      }
    });
  }
  for (const file of dirs.filter((d) => !d.endsWith('.sh')).flatMap((d) => (d.endsWith('.ts') ? [d] : tsFiles(d)))) {
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      const text = literalText(node);
      if (text !== undefined) {
        // Shell text has options, redirections, pipes or expansions; messages have none.
        if (!SHELL_LIKE.test(text)) return;
        const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
        for (const command of shellCommandWords(text, { backtickIsShell: false })) {
          if (known(command) || isInstalledExecutable(command)) uses.push({ command, at: `${file}:${line}` });
        }
        return;
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return uses;
}
