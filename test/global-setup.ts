/**
 * Runs once before the suite: builds dist/ so tests that spawn the real CLI run the code
 * under test (npm test also builds; this keeps `npx vitest run` honest).
 */
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
}
