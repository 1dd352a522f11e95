/**
 * Runs once before the suite (`npm test` is `vitest run`): installs the controller's
 * Debian packages that are missing (the one declared list, test/hosts/packages.ts; once
 * here, so that test files running in parallel never race for apt's lock), builds dist/
 * so the tests that spawn the real CLI run the code under test, and type-checks the tests
 * and benchmarks (vitest only strips types). A type error anywhere fails the suite here.
 */
import { execFileSync } from 'node:child_process';
import { ensureControllerPackages } from './hosts/packages.js';

export default function setup(): void {
  ensureControllerPackages({ log: (line) => process.stdout.write(`${line}\n`) });
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
  execFileSync('npx', ['tsc', '-p', 'test/tsconfig.json', '--noEmit'], { stdio: 'inherit' });
}
