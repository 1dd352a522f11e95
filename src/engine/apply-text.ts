/**
 * An apply script split for its run: what the streaming and the verdict need (steps,
 * handlers, validation sets, payloads), and its text, built again when the exec asks.
 *
 * Why: with `--forks 500` every host reaches its apply at about the same time and then
 * waits seconds for sshd to start the session (sshd forks for each, on a loaded machine).
 * A text built before that wait is held by 500 hosts at once, outlives the young
 * generation, and is then copied again when flattened for sending: old garbage of about
 * twice the script per host. Built once the session is open (Connection.execDeferred), it
 * is encoded and sent at once and dies young (docs/benchmark.md, "Memory at 500 hosts").
 *
 * The script is built twice: first to learn its payloads (the remote command depends on
 * whether there are any, and sshd needs the command before the session starts), then for
 * its text. The builder is pure, so both builds agree; the second is checked against the
 * first.
 */
import type { ApplyScript } from './apply-script.js';

/** Everything of an ApplyScript but its text. */
export type ApplyPlan = Omit<ApplyScript, 'script'>;

/** The script's text, built on demand (again on every call: a retry with a pty sends it twice). */
export interface ScriptText {
  build(): string;
}

export interface SplitScript {
  plan: ApplyPlan;
  text: ScriptText;
}

/** Not async: the first build's text is a temporary here, dropped at once. */
export function splitScript(build: () => ApplyScript): SplitScript {
  const { script: _text, ...plan } = build();
  return {
    plan,
    text: {
      build() {
        const again = build();
        if (again.payloads.length !== plan.payloads.length || again.steps.join() !== plan.steps.join()) {
          throw new Error('the apply script built differently the second time (its builder must be pure)');
        }
        return again.script.text;
      },
    },
  };
}
