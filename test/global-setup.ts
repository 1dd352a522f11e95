/**
 * Runs once before the suite (`npm test` is `vitest run`): builds dist/ so the tests that
 * spawn the real CLI run the code under test, and type-checks the tests and benchmarks
 * (vitest only strips types). A type error anywhere fails the suite here.
 */
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
  execFileSync('npx', ['tsc', '-p', 'test/tsconfig.json', '--noEmit'], { stdio: 'inherit' });
}
