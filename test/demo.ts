/**
 * `npm run demo`: boots two Debian load balancers and three backends on this machine,
 * applies the whole stack (Consul agent, dnsmasq, HAProxy with conf.d, consul-template,
 * sudoers, ACLs) with live progress, proves traffic flows through both LBs to every
 * backend, applies a change (a frontend added) while 300 requests/s flow through both LBs
 * and prints how many were sent and failed, runs `check` (in sync), and tears everything down. Needs root (namespaces,
 * overlays, systemd-nspawn); installs its Debian packages when missing.
 */
import { spawn } from 'node:child_process';
import { ensureControllerPackages, cleanupStaleLabs } from './hosts/harness.js';
import { startStackLab, type StackLab } from './e2e/stack-lab.js';
import { applyUnderTraffic, inventoryWithExtraFrontend } from './e2e/demo-change.js';
import { CLI } from './support/cli.js';

/** Bold `==>` on a terminal only, as provision itself colours: never with NO_COLOR or into a pipe. */
const bold = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
const say = (line: string) => process.stdout.write(`${bold ? '\x1b[1m==>\x1b[0m' : '==>'} ${line}\n`);

function provision(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: 'inherit', env: { ...process.env, ...env } });
    child.on('close', (code) => resolve(code ?? 1));
  });
}

async function get(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return `${res.status} ${(await res.text()).trim()}`;
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('the demo boots containers with systemd-nspawn and network namespaces: run it as root\n');
    return 1;
  }
  ensureControllerPackages({ log: say });
  await cleanupStaleLabs(say);
  say('booting 2 load balancers and 3 backends (the base image is built once and cached)');
  let stack: StackLab | undefined;
  try {
    stack = await startStackLab({ log: (l) => say(l) });
    say(`hosts: ${stack.lbs.map((h) => `${h.name} ${h.address}`).join(', ')}; backends: ${stack.backends.map((b) => `${b.name} ${b.address}`).join(', ')}`);
    say(`provision apply ${stack.inventoryPath}`);
    const applied = await provision(['apply', stack.inventoryPath], stack.env);
    if (applied !== 0) {
      say(`apply failed (exit ${applied})`);
      return 1;
    }
    say('traffic through each load balancer (dns mode: server-template over Consul SRV; template mode: consul-template)');
    let ok = true;
    for (const lb of stack.lbs) {
      const seen = new Set<string>();
      for (let i = 0; i < 8; i++) seen.add(await get(`http://${lb.address}/`).catch((e: Error) => `error ${e.message}`));
      const payments = await get(`http://${lb.address}:8081/`).catch((e: Error) => `error ${e.message}`);
      say(`${lb.name} :80   -> ${[...seen].join(' | ')}`);
      say(`${lb.name} :8081 -> ${payments}`);
      ok &&= [...seen].some((s) => s.includes('tomcat-1')) && [...seen].some((s) => s.includes('tomcat-2')) && payments.includes('payments-1');
    }
    const changed = await inventoryWithExtraFrontend(stack);
    say(`a change under traffic (a frontend added on :8082, 300 requests/s through both LBs): provision apply ${changed}`);
    const live = await applyUnderTraffic(stack, () => provision(['apply', changed], stack!.env));
    for (const line of live.lines) say(line);
    ok &&= live.code === 0 && live.failed === 0;
    say(`provision check ${changed}`);
    const checked = await provision(['check', changed], stack.env);
    say(checked === 0 ? 'check: every host in sync' : `check exited ${checked}`);
    if (!ok) say('some backend was not reached, or a request failed during the change');
    return ok && checked === 0 ? 0 : 1;
  } finally {
    say('tearing down');
    await stack?.teardown();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
