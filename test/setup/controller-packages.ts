/**
 * Global setup of the unit and root tiers: installs the controller's Debian packages
 * that are missing (the one declared list, test/hosts/packages.ts; once here, so that test
 * files running in parallel never race for apt's lock). One `dpkg-query` when nothing is
 * missing. These tiers import src/ directly (vitest strips types), so they need neither
 * dist/ nor a compile: type-checking is `npm run typecheck`, which `npm test` runs first.
 */
import { ensureControllerPackages } from '../hosts/packages.js';

export default function setup(): void {
  ensureControllerPackages({ log: (line) => process.stdout.write(`${line}\n`) });
}
