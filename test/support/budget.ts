/**
 * Time budgets that follow the work, for the tests on real hosts. A test's budget is the
 * sum of the work it does, each unit sized for a busy 2-core machine (load 15-30, where a
 * first apply of the stack took 69-121 s), not for a quiet one: a budget is there to stop
 * a hang, never to judge speed. When one runs out, the error names the phase the test was
 * in and how long each earlier phase took, instead of vitest's bare "timed out".
 *
 *     it('converges', within(budget(WORK.aptApply, WORK.cliRun), async (phase) => {
 *       phase('first apply');
 *       ...
 *     }), timeoutFor(budget(WORK.aptApply, WORK.cliRun)));
 */

/** One unit of work on a loaded 2-core machine, in ms. */
export const WORK = {
  /** An apply that apt-installs packages (from the hosts' cache) on up to a few hosts. */
  aptApply: 5 * 60_000,
  /** An apply or check that writes files, restarts units, runs handlers; no package install. */
  apply: 2 * 60_000,
  /** A CLI run that connects and probes only (check, a refused apply, hosts down). */
  cliRun: 60_000,
  /** A few commands over SSH on a test host (inspecting state, editing a file). */
  inspect: 30_000,
  /** The system converging by itself (DNS answers, consul-template rendering). */
  converge: 2 * 60_000,
  /** Booting a lab of test hosts (the base image already built). */
  boot: 5 * 60_000,
  /** One ssh2 connection with key exchange and authentication to a loopback sshd. */
  sshConnect: 10_000,
  /** One exec of a short command over an open connection. */
  sshExec: 2_000,
  /** Building the base image from Debian's mirror (first run on a machine). */
  image: 10 * 60_000,
} as const;

export function budget(...units: number[]): number {
  return units.reduce((a, b) => a + b, 0);
}

/** vitest's own timeout for a budgeted test: later than the budget, so the budget reports first. */
export function timeoutFor(budgetMs: number): number {
  return budgetMs + 30_000;
}

export class BudgetExceeded extends Error {
  constructor(budgetMs: number, phase: string, phaseMs: number, earlier: string[]) {
    const before = earlier.length ? `; before it: ${earlier.join(', ')}` : '';
    super(`budget of ${Math.round(budgetMs / 1000)} s ran out in phase "${phase}" (${Math.round(phaseMs / 1000)} s in it${before})`);
    this.name = 'BudgetExceeded';
  }
}

/** How many earlier phases the message lists (the most recent ones). */
const EARLIER_SHOWN = 6;

class PhaseLog {
  private current = 'start';
  private since = Date.now();
  private readonly done: string[] = [];
  enter(name: string): void {
    this.done.push(`${this.current} ${Math.round((Date.now() - this.since) / 1000)} s`);
    this.current = name;
    this.since = Date.now();
  }
  exceeded(budgetMs: number): BudgetExceeded {
    return new BudgetExceeded(budgetMs, this.current, Date.now() - this.since, this.done.slice(-EARLIER_SHOWN));
  }
}

/** The budget of the test running now (a file's tests run one at a time). */
let active: PhaseLog | undefined;

/** Marks the phase the running budgeted test is in; helpers (a CLI run, an ssh command) call it too. */
export function phase(name: string): void {
  active?.enter(name);
}

/** Runs `fn` under a budget; when it runs out, the error names the phase (see `phase`). */
export function within<T>(budgetMs: number, fn: (mark: typeof phase) => Promise<T>): () => Promise<T> {
  return async () => {
    const log = new PhaseLog();
    active = log;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(log.exceeded(budgetMs)), budgetMs);
    });
    try {
      return await Promise.race([fn(phase), expired]);
    } finally {
      clearTimeout(timer);
      if (active === log) active = undefined;
    }
  };
}
