#!/usr/bin/env node
/**
 * The command line. The only place that prints errors and chooses exit codes:
 * 0 success / in sync, 2 drift (check), 1 any error or unreachable host, 130 interrupted.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ProvisionError } from '../config/errors.js';
import { applyCommand, checkCommand } from './run-command.js';
import { bootstrapCommand } from './bootstrap-command.js';
import { hostsCommand } from './hosts-command.js';
import { validateCommand } from './validate-command.js';
import { schemasCommand } from './schemas-command.js';
import { exitCodesHelp } from './exit-codes.js';
import { parseDuration, parseListen, watchCommand } from './watch-command.js';
import { parseShard } from '../config/shard.js';
import { reportMergeCommand } from './report-command.js';
import { importAnsibleCommand } from './import-ansible-command.js';
import { healthCommand } from './health-command.js';
import { applyPlanCommand, planCommand, showCommand } from './plan-command.js';
import { parseMaxFailOption, parseSerialOption } from './rollout-hosts.js';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive whole number');
  return n;
}

/** The version of the package this CLI belongs to (dist/cli/provision.js or dist/cli/main.js -> package.json). */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown (no package.json beside dist/)'; // a copied dist/ must still run
  }
}

const program = new Command();
program
  .name('provision')
  .version(packageVersion(), '-V, --version', 'print the version')
  .description('Agentless provisioning over SSH: one probe and one apply round trip per host.')
  .showHelpAfterError()
  .configureOutput({ outputError: (str, write) => write(str) });

const limit = new Option('-l, --limit <pattern>', 'hosts, groups or globs, comma-separated; !pattern excludes');
const json = new Option('--json <file>', 'write the plan or result per host and step as JSON');
const verbose = new Option('-v, --verbose', 'log every phase with its timing and unchanged steps too (line by line; secrets masked)');
const junit = new Option('--junit <file>', 'write a JUnit XML report: one test case per host and step, drift and failures with their diff');
const format = new Option('--format <format>', 'output format: plain, or github (adds GitHub Actions annotations at the step\'s playbook line)').choices(['plain', 'github']);
const shard = new Option('--shard <K/N>', "only this job's share of the selected hosts (rendezvous hashing: stable when hosts are added)").argParser((v: string) => {
  try {
    return parseShard(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
});
const forks = new Option('-f, --forks <n>', 'hosts handled in parallel (default: inventory setting, else 20)').argParser(positiveInt);

program
  .command('apply')
  .addHelpText('after', exitCodesHelp('apply'))
  .description('converge every selected host; exit 0 on success, 1 on any failure')
  .argument('<inventory>', 'inventory YAML file')
  .addOption(limit)
  .addOption(shard)
  .option('--check', 'only show what would change (same as `provision check`)')
  .option('--diff', 'show content diffs of changed files')
  .option('--break-lock', "stop a stale run still holding a host's lock (its controller is gone) and take the lock; a live run is never touched")
  .option('--serial <sizes>', 'rolling apply in batches: 1, 25% or a list 1,25%,100% (overrides the groups\' serial)', parseSerialOption)
  .option('--plan <file>', 'apply exactly this saved plan (`provision plan`): refuses the run if the code or vars changed, and any host that changed since')
  .option('--max-fail <n>', 'failed hosts a batch may have before the rollout stops: N or N% (with --serial; default 0)', parseMaxFailOption)
  .addOption(forks)
  .addOption(json)
  .addOption(junit)
  .addOption(format)
  .addOption(verbose)
  .action(async (inventory: string, opts) => {
    process.exitCode = opts.check ? await checkCommand(inventory, opts) : opts.plan ? await applyPlanCommand(inventory, opts) : await applyCommand(inventory, opts);
  });

program
  .command('check')
  .addHelpText('after', exitCodesHelp('check'))
  .description('read-only drift check: exit 0 in sync, 2 drift, 1 error or unreachable host')
  .argument('<inventory>', 'inventory YAML file')
  .addOption(limit)
  .addOption(shard)
  .option('--diff', 'show content diffs of drifted files')
  .addOption(forks)
  .addOption(json)
  .addOption(junit)
  .addOption(format)
  .addOption(verbose)
  .action(async (inventory: string, opts) => {
    process.exitCode = await checkCommand(inventory, opts);
  });

/** A commander parser from one of ours that throws plain Errors. */
function parsedBy<T>(parse: (v: string) => T): (v: string) => T {
  return (v) => {
    try {
      return parse(v);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };
}

program
  .command('watch')
  .description('hold one SSH connection per host, check every host each interval, serve the fleet page, /api/hosts and /metrics (read-only unless --repair)')
  .argument('<inventory>', 'inventory YAML file')
  .addOption(limit)
  .addOption(shard)
  .addOption(new Option('--interval <duration>', 'time between checks of a host (30s, 2m, 1h)').argParser(parsedBy(parseDuration)).default(30_000, '30s'))
  .addOption(new Option('--listen <host:port>', 'where to serve the page; any address but loopback needs --token-env').argParser(parsedBy(parseListen)).default({ host: '127.0.0.1', port: 9107 }, '127.0.0.1:9107'))
  .option('--token-env <var>', 'environment variable holding the token every request must carry (Bearer header or ?token=)')
  .option('--repair', 'apply drifted hosts (at most once per interval per host; each repair logged)')
  .option('--history <file>', 'append-only JSON-lines history (default ~/.local/state/provision/watch-INVENTORY-ID.jsonl)')
  .addOption(forks)
  .action(async (inventory: string, opts) => {
    process.exitCode = await watchCommand(inventory, opts);
  });

program
  .command('plan')
  .description('show what apply would change (as check --diff) and save it as a plan for `apply --plan`; exit 0 written, 1 error')
  .argument('<inventory>', 'inventory YAML file')
  .addOption(limit)
  .requiredOption('-o, --output <file>', 'plan file to write (JSON, no secret values; docs/plan-format.md)')
  .addOption(forks)
  .action(async (inventory: string, opts) => {
    process.exitCode = await planCommand(inventory, opts);
  });

program
  .command('show')
  .description('print a saved plan')
  .argument('<file>', 'plan file')
  .action(async (file: string) => {
    process.exitCode = await showCommand(file);
  });

program
  .command('health')
  .description("run the selected hosts' health gates alone; exit 0 all passed, 1 any failed or unreachable")
  .argument('<inventory>', 'inventory YAML file')
  .addOption(limit)
  .addOption(forks)
  .addOption(json)
  .action(async (inventory: string, opts) => {
    process.exitCode = await healthCommand(inventory, opts);
  });

program
  .command('bootstrap')
  .addHelpText('after', exitCodesHelp('bootstrap'))
  .description('first contact with fresh hosts: provisioning user, key, sudo, then (proven) sshd hardening; exit 0 ok, 1 failure')
  .argument('<inventory>', 'inventory YAML file')
  .option('--host <names>', 'the host(s) to bootstrap (same patterns as --limit)')
  .addOption(limit)
  .addOption(shard)
  .option('--password-env <var>', 'read the initial password from this environment variable (else asked on the terminal)')
  .option('--initial-user <user>', 'user of the initial credentials (default: bootstrap.initial_user, else root)')
  .option('--initial-key <file>', 'private key of the initial credentials (e.g. a cloud-init key) instead of a password')
  .option('--expect-fingerprint <SHA256:...>', 'refuse any host key but this one, before any credential is sent')
  .option('--no-harden', 'leave sshd as it is (no PasswordAuthentication no / PermitRootLogin prohibit-password)')
  .addOption(forks)
  .addOption(json)
  .action(async (inventory: string, opts) => {
    process.exitCode = await bootstrapCommand(inventory, opts);
  });

program
  .command('hosts')
  .description('list the selected hosts with their address and groups')
  .argument('<inventory>', 'inventory YAML file')
  .addOption(limit)
  .addOption(shard)
  .action(async (inventory: string, opts) => {
    process.exitCode = await hostsCommand(inventory, opts);
  });

program
  .command('validate')
  .addHelpText('after', exitCodesHelp('validate'))
  .description('load and type-check inventory, playbooks and templates for every host, without connecting')
  .argument('<inventory>', 'inventory YAML file')
  .addOption(limit)
  .addOption(shard)
  .action(async (inventory: string, opts) => {
    process.exitCode = await validateCommand(inventory, opts);
  });

program
  .command('report')
  .description('work with JSON reports (--json) of check and apply')
  .command('merge')
  .description('combine the JSON reports of shard jobs into one summary and one exit code (0 ok, 2 drift in a check, 1 any failure)')
  .argument('<reports...>', 'JSON report files')
  .option('--json <file>', 'write the merged report')
  .action(async (files: string[], opts) => {
    process.exitCode = await reportMergeCommand(files, opts);
  });

program
  .command('schemas')
  .description('write JSON Schemas of inventories and playbooks (for editors) into DIR')
  .argument('<dir>', 'output directory')
  .action(async (dir: string) => {
    process.exitCode = await schemasCommand(dir);
  });

program
  .command('import-ansible')
  .description('convert an Ansible inventory (INI or YAML, with group_vars/ and host_vars/) to a provision inventory, listing what it cannot carry over')
  .argument('<inventory>', 'Ansible inventory file')
  .option('--group-vars <dir>', 'group_vars directory (default: beside the inventory)')
  .option('--host-vars <dir>', 'host_vars directory (default: beside the inventory)')
  .option('-o, --output <file>', 'write the provision inventory here (default: stdout)')
  .action(async (inventory: string, opts) => {
    process.exitCode = await importAnsibleCommand(inventory, opts);
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  // Anything reaching here is a bug or an unexpected local failure: one line, no stack
  // unless PROVISION_DEBUG is set.
  const msg = e instanceof ProvisionError ? e.shortMessage : e instanceof Error ? e.message : String(e);
  process.stderr.write(`provision: ${msg}\n`);
  if (process.env.PROVISION_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  process.exitCode = 1;
});
