/**
 * The load-balancer stack's assets, checked without the engine and without installing
 * anything on this machine: the stand-in zips and their server, the playbooks' shape,
 * every template rendered with the demo (and prod) inventory's vars and validated with
 * the real tools (haproxy -c over main + conf.d, dnsmasq --test, visudo -cf,
 * systemd-analyze verify), and the consul / consul-template stand-ins themselves.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type nunjucks from 'nunjucks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildStandinZips, type StandinZips } from './build.js';
import { extractDebianTools, run, type DebianTools } from './debian-tools.js';
import { evalWhen, hostVars, loadPlaybook, REPO } from './render-vars.js';
import { templateEnv } from './render-vars.js';
import { serveDirectory } from './server.js';
import { STEP_KINDS } from '../../src/resources/registry.js';

const CONSUL = join(REPO, 'test/standins/bin/consul');
const CONSUL_TEMPLATE = join(REPO, 'test/standins/bin/consul-template');
// A syntactically valid 32-byte gossip key (what `consul keygen` prints); not a real secret.
const FAKE_SECRETS = {
  consul_encrypt: 'pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=',
  consul_acl_agent_token: '11111111-2222-3333-4444-555555555555',
  consul_template_token: '66666666-7777-8888-9999-000000000000',
};

type Vars = Record<string, unknown>;
interface Backend {
  name: string;
  mode: string;
}

let work: string;
let tools: DebianTools;
let env: nunjucks.Environment;
let demo: Vars;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'provision-standins-'));
  tools = extractDebianTools();
  env = templateEnv();
  demo = hostVars('inventory/demo.yaml', 'lb-1', FAKE_SECRETS);
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  if (tools) rmSync(tools.root, { recursive: true, force: true });
});

function render(template: string, vars: Vars): string {
  return env.render(template, vars);
}

function backends(vars: Vars): Backend[] {
  return vars.haproxy_backends as Backend[];
}

/** Writes main + conf.d (one file per backend, as the playbook lays them out) under dir. */
function writeHaproxySet(dir: string, vars: Vars): { main: string; confd: string } {
  const confd = join(dir, 'conf.d');
  mkdirSync(confd, { recursive: true });
  const main = join(dir, 'haproxy.cfg');
  writeFileSync(main, localUsers(render('haproxy/haproxy.cfg.njk', vars)));
  for (const backend of backends(vars)) {
    const src = backend.mode === 'template' ? 'haproxy/backend-placeholder.cfg.njk' : 'haproxy/backend-dns.cfg.njk';
    writeFileSync(join(confd, `${backend.name}.cfg`), render(src, { ...vars, backend }));
  }
  return { main, confd };
}

/** This machine has no haproxy user (the package is not installed): run as nobody. */
function localUsers(cfg: string): string {
  if (run('getent', ['passwd', 'haproxy']).status === 0) return cfg;
  expect(cfg).toContain('\tuser haproxy\n\tgroup haproxy\n');
  return cfg.replace('\tuser haproxy\n\tgroup haproxy\n', '\tuser nobody\n\tgroup nogroup\n');
}

function haproxyCheck(main: string, confd: string) {
  return run(tools.haproxy, ['-c', '-q', '-f', main, '-f', confd], tools.env);
}

describe('stand-in release zips and their server', () => {
  let zips: StandinZips;
  beforeAll(async () => {
    zips = await buildStandinZips(join(work, 'zips'));
  });

  it('names the zips like HashiCorp releases and reports their real SHA-256', () => {
    expect(zips.consul.urlName).toBe('consul_1.20.1_linux_amd64.zip');
    expect(zips.consulTemplate.urlName).toBe('consul-template_0.39.1_linux_amd64.zip');
    for (const z of [zips.consul, zips.consulTemplate]) {
      const actual = createHash('sha256').update(readFileSync(z.file)).digest('hex');
      expect(z.sha256).toBe(actual);
    }
  });

  it('is reproducible: the same scripts give the same checksum', async () => {
    const again = await buildStandinZips(join(work, 'zips-again'));
    expect(again.consul.sha256).toBe(zips.consul.sha256);
    expect(again.consulTemplate.sha256).toBe(zips.consulTemplate.sha256);
  });

  it('unzips to one executable member that runs', () => {
    const out = join(work, 'unzipped');
    for (const [z, member, version] of [
      [zips.consul, 'consul', 'Consul v1.20.1 (stand-in)'],
      [zips.consulTemplate, 'consul-template', 'consul-template v0.39.1 (stand-in)'],
    ] as const) {
      const list = run('unzip', ['-Z1', z.file]);
      expect(list.stdout.trim().split('\n')).toEqual([member]);
      expect(run('unzip', ['-o', '-q', z.file, '-d', out]).status).toBe(0);
      const mode = statSync(join(out, member)).mode & 0o777;
      expect(mode).toBe(0o755);
      const r = run(join(out, member), [member === 'consul' ? 'version' : '-version']);
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
  });

  it('serves the zips over HTTP, 404s anything else, and never leaves the directory', async () => {
    const server = await serveDirectory(join(work, 'zips'), '127.0.0.1', 0);
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const res = await fetch(server.url + zips.consul.urlName);
      expect(res.status).toBe(200);
      const body = Buffer.from(await res.arrayBuffer());
      expect(createHash('sha256').update(body).digest('hex')).toBe(zips.consul.sha256);
      expect((await fetch(server.url + 'nope.zip')).status).toBe(404);
      expect((await fetch(server.url + '..%2F..%2Fetc%2Fpasswd')).status).toBe(404);
      expect((await fetch(server.url + zips.consul.urlName, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.close();
    }
  });
});

describe('playbooks', () => {
  // Every registered step type (haproxy_servers, attributes, ...), and include.
  const STEP_TYPES = ['include', ...STEP_KINDS.kinds()];
  const COMMON = ['name', 'notify', 'when', 'loop', 'loop_var'];
  const NAMES = ['app', 'consul-client', 'consul-template', 'dnsmasq', 'haproxy', 'lb'];

  it.each(NAMES)('%s: one step type per step, known keys, existing includes/templates/handlers', (name) => {
    const pb = loadPlaybook(name);
    expect(Object.keys(pb).every((k) => ['vars', 'steps', 'handlers', 'validate_sets'].includes(k))).toBe(true);
    const handlers = Object.keys(pb.handlers ?? {});
    for (const step of pb.steps ?? []) {
      const types = Object.keys(step).filter((k) => !COMMON.includes(k));
      expect(types, JSON.stringify(step)).toHaveLength(1);
      const type = types[0]!;
      expect(STEP_TYPES).toContain(type);
      if (type === 'include') {
        expect(existsSync(join(REPO, 'playbooks', `${String(step.include)}.yaml`))).toBe(true);
        continue;
      }
      const body = step[type] as Record<string, unknown>;
      if (typeof body.src === 'string' && ['template', 'systemd_unit', 'sudoers'].includes(type)) {
        expect(existsSync(join(REPO, 'templates', body.src)), body.src).toBe(true);
      }
      if (typeof body.validate_set === 'string') expect(Object.keys(pb.validate_sets ?? {})).toContain(body.validate_set);
      if (typeof body.mode === 'string') expect(body.mode).toMatch(/^0[0-7]{3}$/);
      const notify = step.notify === undefined ? [] : [step.notify].flat();
      for (const h of notify) expect(handlers, `${name}: handler ${String(h)}`).toContain(h);
    }
  });

  it('lb includes consul-template only when a backend is in template mode', () => {
    const step = loadPlaybook('lb').steps!.find((s) => s.include === 'consul-template')!;
    const when = step.when as string;
    expect(evalWhen(env, when, demo)).toBe(true);
    expect(evalWhen(env, when, { haproxy_backends: [{ name: 'tomcat', mode: 'dns' }] })).toBe(false);
    expect(evalWhen(env, when, { haproxy_backends: [] })).toBe(false);
  });

  it('picks exactly one conf.d directory step, matching the ACL mask when consul writes there', () => {
    const steps = loadPlaybook('haproxy').steps!.filter(
      (s) => (s.directory as { path?: string } | undefined)?.path === '{{ haproxy_confd_dir }}',
    );
    expect(steps).toHaveLength(2);
    const active = (vars: Vars) => steps.filter((s) => evalWhen(env, s.when as string, vars));
    const withTemplate = active(demo);
    expect(withTemplate).toHaveLength(1);
    expect((withTemplate[0]!.directory as { mode: string }).mode).toBe('0775');
    const dnsOnly = active({ haproxy_backends: [{ name: 'tomcat', mode: 'dns' }] });
    expect(dnsOnly).toHaveLength(1);
    expect((dnsOnly[0]!.directory as { mode: string }).mode).toBe('0755');
  });

  it('the haproxy validate set names the same paths the templates install', () => {
    const set = loadPlaybook('haproxy').validate_sets!.haproxy!;
    expect(set.paths.main).toBe('/etc/haproxy/haproxy.cfg');
    expect(set.paths.confd).toBe(demo.haproxy_confd_dir);
    expect(set.command).toBe('/usr/sbin/haproxy -c -f {main} -f {confd}');
  });
});

describe('HAProxy templates, checked with haproxy -c over main + conf.d', () => {
  it('the demo set (dns backend + template placeholder) is valid', () => {
    const { main, confd } = writeHaproxySet(join(work, 'haproxy-demo'), demo);
    const r = haproxyCheck(main, confd);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('carries the DNS settings the stack needs', () => {
    const main = render('haproxy/haproxy.cfg.njk', demo);
    expect(main).toContain('stats socket /run/haproxy/admin.sock mode 660 level admin');
    expect(main).toContain('server-state-file /var/lib/haproxy/server-state');
    expect(main).toContain('load-server-state-from-file global');
    expect(main).toMatch(/resolvers consul\n\tnameserver dnsmasq 127\.0\.0\.1:53\n/);
    for (const line of ['accepted_payload_size 8192', 'hold valid 10s', 'hold obsolete 30s']) expect(main).toContain(line);
    const direct = render('haproxy/haproxy.cfg.njk', { ...demo, haproxy_dns_via: 'consul' });
    expect(direct).toContain('nameserver consul 127.0.0.1:8600');
    const tomcat = backends(demo).find((b) => b.name === 'tomcat')!;
    expect(render('haproxy/backend-dns.cfg.njk', { ...demo, backend: tomcat })).toContain(
      'server-template tomcat 64 _tomcat._tcp.service.consul resolvers consul resolve-prefer ipv4 resolve-opts allow-dup-ip init-addr last,none check',
    );
  });

  it('fails the set when a referenced backend is missing (so the set must be checked whole)', () => {
    const { main, confd } = writeHaproxySet(join(work, 'haproxy-missing'), demo);
    rmSync(join(confd, 'payments.cfg'));
    expect(haproxyCheck(main, confd).status).not.toBe(0);
    // And a conf.d file alone is not a valid configuration either.
    expect(run(tools.haproxy, ['-c', '-q', '-f', join(confd, 'tomcat.cfg')], tools.env).status).not.toBe(0);
  });

  it('the prod set is valid too (TLS frontends, static backend, stats)', () => {
    const prod = hostVars('inventory/prod.yaml', 'lb-2', FAKE_SECRETS);
    const dir = join(work, 'haproxy-prod');
    // Point the TLS frontends at a throwaway self-signed certificate.
    const pem = join(dir, 'test.pem');
    mkdirSync(dir, { recursive: true });
    const key = join(dir, 'k.pem');
    const crt = join(dir, 'c.pem');
    const ssl = run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-days', '1', '-subj', '/CN=test']);
    expect(ssl.status).toBe(0);
    writeFileSync(pem, readFileSync(crt, 'utf8') + readFileSync(key, 'utf8'));
    const frontends = (prod.haproxy_frontends as Array<Record<string, unknown>>).map((f) =>
      f.tls_cert ? { ...f, tls_cert: pem } : f,
    );
    const { main, confd } = writeHaproxySet(dir, { ...prod, haproxy_frontends: frontends });
    const text = readFileSync(main, 'utf8');
    expect(text).toContain(`bind :443 ssl crt ${pem}`);
    expect(text).toContain('server legacy-1 10.20.3.10:8080 check');
    expect(text).toContain('bind 127.0.0.1:8404');
    const r = haproxyCheck(main, confd);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('the systemd drop-in verifies clean on top of Debian\'s haproxy.service', () => {
    const dir = join(work, 'units-haproxy');
    mkdirSync(join(dir, 'haproxy.service.d'), { recursive: true });
    // Only the binary path differs from the host: haproxy is extracted, not installed here.
    const local = (s: string) => s.replaceAll('/usr/sbin/haproxy', tools.haproxy);
    const dropin = render('haproxy/10-confd.conf.njk', demo);
    expect(dropin).toContain('ExecStart=\nExecStart=/usr/sbin/haproxy -Ws -f $CONFIG -f $CFGDIR -p $PIDFILE $EXTRAOPTS');
    expect(dropin).toContain('ExecReload=\nExecReload=/usr/sbin/haproxy -Ws -f $CONFIG -f $CFGDIR -c -q $EXTRAOPTS');
    writeFileSync(join(dir, 'haproxy.service'), local(readFileSync(join(tools.root, 'lib/systemd/system/haproxy.service'), 'utf8')));
    writeFileSync(join(dir, 'haproxy.service.d/10-confd.conf'), local(dropin));
    expect(verifyUnit(dir, 'haproxy.service')).toBe('');
    // The check does see the drop-in: a second ExecStart without the reset is refused.
    writeFileSync(join(dir, 'haproxy.service.d/10-confd.conf'), local(dropin.replace('ExecStart=\n', '')));
    expect(verifyUnit(dir, 'haproxy.service')).toMatch(/more than one ExecStart/);
  });
});

/** `systemd-analyze verify` output (it exits 0 even when it warns: the output must be empty). */
function verifyUnit(dir: string, unit: string): string {
  const r = run('systemd-analyze', ['verify', '--man=no', join(dir, unit)], {
    ...process.env,
    SYSTEMD_UNIT_PATH: `${dir}:`,
  });
  return (r.stdout + r.stderr).trim();
}

describe('systemd units', () => {
  it.each([
    ['consul/consul.service.njk', 'consul.service', '/usr/local/bin/consul', CONSUL],
    ['consul-template/consul-template.service.njk', 'consul-template.service', '/usr/local/bin/consul-template', CONSUL_TEMPLATE],
  ])('%s verifies clean', (template, unit, bin, standin) => {
    const dir = join(work, `units-${unit}`);
    mkdirSync(dir, { recursive: true });
    const text = render(template, demo);
    expect(text).toContain(`ExecStart=${bin} `);
    writeFileSync(join(dir, unit), text.replaceAll(bin, standin));
    expect(verifyUnit(dir, unit)).toBe('');
  });

  it('consul runs as Type=notify with NotifyAccess=all; consul-template keeps sudo usable', () => {
    const consul = render('consul/consul.service.njk', demo);
    for (const line of ['Type=notify', 'NotifyAccess=all', 'User=consul', 'KillMode=process', 'Restart=on-failure', 'LimitNOFILE=65536'])
      expect(consul).toContain(`\n${line}\n`);
    const ct = render('consul-template/consul-template.service.njk', demo);
    for (const line of ['User=consul', 'ExecReload=/bin/kill --signal HUP $MAINPID', 'KillSignal=SIGINT', 'Restart=on-failure'])
      expect(ct).toContain(`\n${line}\n`);
    expect(ct).not.toMatch(/^NoNewPrivileges/m);
  });
});

describe('dnsmasq and sudoers', () => {
  it('10-consul passes dnsmasq --test and raises the EDNS size', () => {
    const text = render('dnsmasq/10-consul.njk', { ...demo, dnsmasq_upstream_servers: ['10.0.0.2', '10.0.0.3'] });
    expect(text).toContain('server=/consul/127.0.0.1#8600\n');
    expect(text).toContain('server=10.0.0.2\nserver=10.0.0.3\n');
    expect(text).toContain('edns-packet-max=8192\n');
    expect(text).not.toMatch(/^min-cache-ttl/m);
    const file = join(work, '10-consul');
    writeFileSync(file, text);
    const r = run(tools.dnsmasq, ['--test', `--conf-file=${file}`], tools.env);
    expect(r.status).toBe(0);
    writeFileSync(file, text + 'no-such-option\n');
    expect(run(tools.dnsmasq, ['--test', `--conf-file=${file}`], tools.env).status).not.toBe(0);
  });

  it('the sudoers rule passes visudo -cf and allows exactly the reload', () => {
    const text = render('sudoers/consul-haproxy.njk', demo);
    const rules = text.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    expect(rules).toEqual(['consul ALL=(root) NOPASSWD: /usr/bin/systemctl reload haproxy.service']);
    const file = join(work, 'consul-haproxy');
    writeFileSync(file, text);
    chmodSync(file, 0o440);
    const r = run('visudo', ['-cf', file]);
    expect(r.status).toBe(0);
    writeFileSync(file, 'consul ALL=(root) NOPASSWD /usr/bin/systemctl\n');
    expect(run('visudo', ['-cf', file]).status).not.toBe(0);
  });
});

describe('consul stand-in', () => {
  it('validates the rendered consul.hcl as a staged file (no .hcl suffix) and as a directory', () => {
    const dir = join(work, 'consul.d');
    mkdirSync(dir, { recursive: true });
    const staged = join(dir, '.provision-nonce.consul.hcl.tmp');
    writeFileSync(staged, render('consul/consul.hcl.njk', demo));
    // The playbook's validate command, with the stand-in in place of the real binary.
    expect(run(CONSUL, ['validate', '-config-format=hcl', staged]).status).toBe(0);
    expect(run(CONSUL, ['validate', staged]).status).toBe(1);
    writeFileSync(join(dir, 'consul.hcl'), readFileSync(staged));
    rmSync(staged);
    const service = render('consul/service.hcl.njk', {
      ...demo,
      service: { name: 'tomcat', port: 8080, health_path: '/health', tags: ['http'] },
    });
    expect(service).toContain('http     = "http://10.213.0.11:8080/health"');
    writeFileSync(join(dir, 'service-tomcat.hcl'), service);
    const r = run(CONSUL, ['validate', dir]);
    expect(r.stdout).toContain('Configuration is valid!');
    expect(r.status).toBe(0);
    // A service file alone is not a configuration (no datacenter), like the real consul.
    const alone = join(work, 'service-alone.hcl');
    writeFileSync(alone, service);
    expect(run(CONSUL, ['validate', alone]).status).toBe(1);
  });

  it('renders ACL tokens from secrets and rejects broken HCL', () => {
    const prod = hostVars('inventory/prod.yaml', 'lb-1', FAKE_SECRETS);
    const text = render('consul/consul.hcl.njk', prod);
    expect(text).toContain(`agent = "${FAKE_SECRETS.consul_acl_agent_token}"`);
    expect(text).toContain('retry_join = ["10.20.0.5", "10.20.0.6", "10.20.0.7"]');
    expect(text).toContain('bind_addr      = "10.20.1.11"');
    const file = join(work, 'prod-consul.hcl');
    writeFileSync(file, text);
    expect(run(CONSUL, ['validate', file]).status).toBe(0);
    writeFileSync(file, text.replace(/\}\s*$/, ''));
    const bad = run(CONSUL, ['validate', file]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/unbalanced braces/);
  });
});

describe('consul-template stand-in with the rendered config and template', () => {
  let dir: string;
  let confd: string;
  let services: string;
  let reloads: string;
  let main: string;

  beforeAll(() => {
    dir = join(work, 'ct');
    const ctd = join(dir, 'consul-template.d');
    const set = writeHaproxySet(join(dir, 'haproxy'), demo);
    confd = set.confd;
    main = set.main;
    mkdirSync(ctd, { recursive: true });
    const vars = { ...demo, consul_template_config_dir: ctd, haproxy_confd_dir: confd };
    const config = render('consul-template/config.hcl.njk', vars);
    expect(config).toContain('exec {\n    command = ["sudo", "/usr/bin/systemctl", "reload", "haproxy.service"]\n    timeout = "30s"\n  }');
    expect(config).toContain('attempts = 0');
    // Never reload anything on this machine: the exec command only counts the reloads.
    reloads = join(dir, 'reloads');
    writeFileSync(join(ctd, 'config.hcl'), config.replace(
      '["sudo", "/usr/bin/systemctl", "reload", "haproxy.service"]',
      `["/bin/sh", "-c", "echo>>${reloads}"]`,
    ));
    for (const backend of backends(demo).filter((b) => b.mode === 'template')) {
      const ctmpl = render('consul-template/backend.ctmpl.njk', { ...vars, backend });
      expect(ctmpl).toContain('\tserver {{ .Node }}_{{ .Port }} {{ .Address }}:{{ .Port }} check\n');
      writeFileSync(join(ctd, `${backend.name}.ctmpl`), ctmpl);
    }
    services = join(dir, 'services');
  });

  function once() {
    return run(CONSUL_TEMPLATE, [`-config=${join(dir, 'consul-template.d')}`, '-once'], {
      ...process.env,
      CONSUL_TEMPLATE_STANDIN_SERVICES: services,
    });
  }
  const reloadCount = () => (existsSync(reloads) ? readFileSync(reloads, 'utf8').split('\n').length - 1 : 0);

  it('renders NODE_PORT servers, the result passes haproxy -c, and the command runs once', () => {
    writeFileSync(services, [
      'payments pay-1 10.213.0.31 9000',
      'payments pay-1 10.213.0.31 9001',
      'payments pay-2 10.213.0.32 9000',
      'tomcat app-1 10.213.0.21 8080',
    ].join('\n') + '\n');
    const r = once();
    expect(r.stderr).toContain('rendered');
    expect(r.status).toBe(0);
    const out = readFileSync(join(confd, 'payments.cfg'), 'utf8');
    expect(out).toMatch(/backend bk_payments\n\tbalance roundrobin\n\tserver pay-1_9000 10\.213\.0\.31:9000 check\n\tserver pay-1_9001 10\.213\.0\.31:9001 check\n\tserver pay-2_9000 10\.213\.0\.32:9000 check\n$/);
    expect(out).not.toContain('app-1');
    expect(statSync(join(confd, 'payments.cfg')).mode & 0o777).toBe(0o644);
    expect(existsSync(join(confd, 'payments.cfg.bak'))).toBe(true); // the placeholder, kept
    expect(reloadCount()).toBe(1);
    const check = haproxyCheck(main, confd);
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('does nothing when the services did not change', () => {
    const before = reloadCount();
    expect(once().status).toBe(0);
    expect(reloadCount()).toBe(before);
  });

  it('an empty service list leaves an empty (valid) backend', () => {
    writeFileSync(services, '');
    expect(once().status).toBe(0);
    expect(readFileSync(join(confd, 'payments.cfg'), 'utf8')).not.toContain('\tserver ');
    expect(readFileSync(join(confd, 'payments.cfg.bak'), 'utf8')).toContain('server pay-2_9000');
    expect(haproxyCheck(main, confd).status).toBe(0);
  });

  it('exits non-zero when the exec command fails, like consul-template', () => {
    const cfg = join(dir, 'consul-template.d/config.hcl');
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(/command = \[[^\]]*\]/, 'command = ["/bin/false"]'));
    writeFileSync(services, 'payments pay-3 10.213.0.33 9000\n');
    expect(once().status).not.toBe(0);
  });
});
