/**
 * Global setup of the system tier (every test outside test/unit/ and test/root/, see
 * vitest.config.ts): installs the controller's Debian packages that are missing (the one
 * declared list, test/hosts/packages.ts), then builds dist/ and the bundled CLI
 * (`npm run build`) so the tests that spawn the real CLI run the code under test, as
 * shipped. Type-checking of src/, tests and benchmarks is `npm run typecheck`, which
 * `npm test` runs before vitest: a type error anywhere fails the suite there.
 */
import { execFileSync } from 'node:child_process';
import setupPackages from './setup/controller-packages.js';

export default function setup(): void {
  setupPackages();
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
}
