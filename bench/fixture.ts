/**
 * The desired state both tools converge, written once per N into a work dir: a
 * load-balancer-like host of 28 steps + 1 handler, the same for `provision` and Ansible:
 *
 *   8 directories, 2 mode/owner changes (on parents the directories created), 8 files with
 *   inline content, 6 templates of about 40 lines looping over 10 backends (the same
 *   template source for nunjucks and Jinja2: both trim blocks), 4 line edits, and 1
 *   handler notified by the HAProxy templates.
 *
 * Every host is an alias of the one loopback sshd and writes under its own root
 * /srv/bench/HOST/, with its own lock file for provision.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { writePyinfraFixture, type PyinfraFixture } from './fixture-pyinfra.js';

export const BENCH_ROOT = '/srv/bench';

export interface SshEndpoint {
  host: string;
  port: number;
  clientKeyPath: string;
  knownHostsPath: string;
}

export interface Fixture {
  hosts: string[];
  provisionInventory: string;
  ansibleDir: string;
  ansibleConfig: string;
  ansiblePlaybook: string;
  ansibleInventory: string;
  /** ControlPath of each host's Ansible ControlPersist master. */
  controlPaths: string[];
  pyinfra: PyinfraFixture;
}

export function hostNames(n: number): string[] {
  const width = Math.max(2, String(n).length);
  return Array.from({ length: n }, (_, i) => `lb-${String(i + 1).padStart(width, '0')}`);
}

export const BACKENDS = Array.from({ length: 10 }, (_, i) => ({
  name: `app-${String(i + 1).padStart(2, '0')}`,
  address: `10.30.0.${11 + i}`,
  port: 8080 + (i % 3),
  weight: 10 + i,
}));

interface Dir {
  path: string;
  mode: string;
  owner?: string;
  group?: string;
}
interface PlainFile {
  path: string;
  mode: string;
  content: string;
  owner?: string;
  group?: string;
}
interface Tpl {
  src: string;
  dest: string;
  mode: string;
  notify: boolean;
}
interface LineEdit {
  path: string;
  regexp: string;
  line: string;
}

/** Paths relative to the host root; the root var is prefixed in both tools. */
export const DIRS: Dir[] = [
  { path: 'etc/haproxy', mode: '0755' },
  { path: 'etc/haproxy/conf.d', mode: '0755' },
  { path: 'etc/haproxy/errors', mode: '0755' },
  { path: 'etc/haproxy/certs', mode: '0700' },
  { path: 'etc/dnsmasq.d', mode: '0755' },
  { path: 'etc/consul.d', mode: '0755' },
  { path: 'opt/consul/data', mode: '0755' },
  { path: 'var/lib/haproxy/state', mode: '0755' },
];

/** Parents created (0755 root:root) by the directories above, then changed. */
export const MODE_OWNER: Dir[] = [
  { path: 'var/lib/haproxy', mode: '0750', owner: 'root', group: 'nogroup' },
  { path: 'opt/consul', mode: '0750', owner: 'nobody', group: 'nogroup' },
];

const errorPage = (code: number, text: string) =>
  `HTTP/1.0 ${code} ${text}\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>${code} ${text}</h1>\nThe service is unavailable; try again shortly.\n</body></html>\n`;

export const FILES: PlainFile[] = [
  { path: 'etc/haproxy/errors/502.http', mode: '0644', content: errorPage(502, 'Bad Gateway') },
  { path: 'etc/haproxy/errors/503.http', mode: '0644', content: errorPage(503, 'Service Unavailable') },
  { path: 'etc/haproxy/errors/504.http', mode: '0644', content: errorPage(504, 'Gateway Timeout') },
  { path: 'etc/haproxy/certs/README', mode: '0600', content: 'Certificates are installed here by the PKI job, one PEM per frontend.\n' },
  { path: 'etc/dnsmasq.d/10-consul', mode: '0644', content: 'server=/consul/127.0.0.1#8600\nlisten-address=127.0.0.1\nbind-interfaces\nedns-packet-max=8192\n' },
  { path: 'etc/dnsmasq.d/20-upstream', mode: '0644', content: 'no-resolv\nserver=10.20.0.2\nserver=10.20.0.3\ncache-size=1000\n' },
  { path: 'etc/consul.d/consul.hcl', mode: '0640', content: 'datacenter = "bench"\ndata_dir = "/opt/consul/data"\nclient_addr = "127.0.0.1"\nretry_join = ["10.20.0.5", "10.20.0.6", "10.20.0.7"]\nports { dns = 8600 }\ndns_config { only_passing = true }\n' },
  { path: 'var/lib/haproxy/state/README', mode: '0644', content: 'server-state is written here before every reload.\n' },
];

/**
 * One line per file: provision refuses two `line` steps on one path since 887b33e
 * (src/resources/path-owners.ts counts a `line` as the owner of its whole file).
 */
export const LINES: LineEdit[] = [
  { path: 'etc/haproxy/haproxy.env', regexp: '^#?EXTRAOPTS=', line: 'EXTRAOPTS="-S /run/haproxy-master.sock"' },
  { path: 'etc/haproxy/config.env', regexp: '^#?CONFIG=', line: 'CONFIG="/etc/haproxy/haproxy.cfg"' },
  { path: 'etc/consul.d/consul.env', regexp: '^CONSUL_HTTP_ADDR=', line: 'CONSUL_HTTP_ADDR=127.0.0.1:8500' },
  { path: 'etc/consul.d/gomaxprocs.env', regexp: '^GOMAXPROCS=', line: 'GOMAXPROCS=2' },
];

export const TEMPLATES: Tpl[] = [
  { src: 'haproxy.cfg.j2', dest: 'etc/haproxy/haproxy.cfg', mode: '0644', notify: true },
  { src: 'bk_app.cfg.j2', dest: 'etc/haproxy/conf.d/bk_app.cfg', mode: '0644', notify: true },
  { src: 'bk_api.cfg.j2', dest: 'etc/haproxy/conf.d/bk_api.cfg', mode: '0644', notify: true },
  { src: 'bk_static.cfg.j2', dest: 'etc/haproxy/conf.d/bk_static.cfg', mode: '0644', notify: false },
  { src: 'dnsmasq-hosts.j2', dest: 'etc/dnsmasq.d/30-hosts', mode: '0644', notify: false },
  { src: 'services.hcl.j2', dest: 'etc/consul.d/services.hcl', mode: '0640', notify: false },
];

export const HANDLER = 'reload haproxy';
export const HANDLER_CMD = 'date >> {{ root }}/var/lib/haproxy/reloads';

/** What every tool converges: the steps' data, from which each tool's files are written. */
export interface DesiredState {
  name: 'lb' | 'sake';
  dirs: Dir[];
  modeOwner: Dir[];
  files: PlainFile[];
  templates: Tpl[];
  lines: LineEdit[];
  /** The handler notified by templates with `notify` (none: no handler). */
  handler?: { name: string; cmd: string };
}

/** The load-balancer-like host: 28 steps + 1 handler (the default). */
export const LB_STATE: DesiredState = {
  name: 'lb',
  dirs: DIRS,
  modeOwner: MODE_OWNER,
  files: FILES,
  templates: TEMPLATES,
  lines: LINES,
  handler: { name: HANDLER, cmd: HANDLER_CMD },
};

/**
 * Shaped like the published sake-performance case (github.com/alajmo/sake-performance,
 * test case 2: add a user, add a file mode 777 owned by that user, upload a file), in 4
 * idempotent steps. Every host is an alias of this one machine, so the user is a line in
 * a passwd-shaped file under the host's root, not a real account, and the file's owner is
 * nobody.
 */
export const SAKE_STATE: DesiredState = {
  name: 'sake',
  dirs: [{ path: 'home/test', mode: '0755' }],
  modeOwner: [],
  files: [
    { path: 'home/test/add.txt', mode: '0777', content: '', owner: 'nobody', group: 'nogroup' },
    { path: 'home/test/upload.txt', mode: '0644', content: 'sake-performance upload file: one short line of text, uploaded when missing or different.\n'.repeat(12) },
  ],
  templates: [],
  lines: [{ path: 'home/test/passwd', regexp: '^bench:', line: 'bench:x:1500:1500:bench user:/home/test:/bin/sh' }],
};

export const STATES: Record<DesiredState['name'], DesiredState> = { lb: LB_STATE, sake: SAKE_STATE };

export function stepCount(s: DesiredState): number {
  return s.dirs.length + s.modeOwner.length + s.files.length + s.templates.length + s.lines.length;
}

/** Template sources: plain Jinja2 that nunjucks renders the same way (trim_blocks). */
export function templateSources(): Record<string, string> {
  const backendBlock = (name: string, path: string) => `# managed: ${name} on {{ bench_host }}
backend ${name}
    mode http
    balance roundrobin
    option httpchk GET ${path}
    http-check expect status 200
    default-server inter 2s fall 3 rise 2 maxconn 200
    timeout server 30s
    timeout connect 5s
    retries 3
    option redispatch
{% for b in backends %}
    # {{ loop.index }}: {{ b.name }} (weight {{ b.weight }})
    server {{ b.name }}_{{ b.port }} {{ b.address }}:{{ b.port }} weight {{ b.weight }} check
{% endfor %}
    http-response set-header X-Backend ${name}
    errorfile 503 {{ root }}/etc/haproxy/errors/503.http
    errorfile 502 {{ root }}/etc/haproxy/errors/502.http
    errorfile 504 {{ root }}/etc/haproxy/errors/504.http
    # end of ${name}
`;
  return {
    'haproxy.cfg.j2': `# managed by the benchmark for {{ bench_host }}
global
    log /dev/log local0
    chroot /var/lib/haproxy
    stats socket /run/haproxy/admin.sock mode 660 level admin
    server-state-file /var/lib/haproxy/server-state
    user haproxy
    group haproxy
    daemon
    maxconn 20000

defaults
    log global
    mode http
    option httplog
    load-server-state-from-file global
    timeout connect 5s
    timeout client 50s
    timeout server 50s

frontend fe_http
    bind :80
    default_backend bk_app
{% for b in backends %}
    acl is_{{ b.name | replace('-', '_') }} hdr(host) -i {{ b.name }}.example.net
{% endfor %}

backend bk_default
    mode http
{% for b in backends %}
    server {{ b.name }} {{ b.address }}:{{ b.port }} check
{% endfor %}

listen stats
    bind 127.0.0.1:8404
    stats enable
    stats uri /stats
`,
    'bk_app.cfg.j2': backendBlock('bk_app', '/health'),
    'bk_api.cfg.j2': backendBlock('bk_api', '/api/health'),
    'bk_static.cfg.j2': backendBlock('bk_static', '/ping'),
    'dnsmasq-hosts.j2': `# managed: backend names for {{ bench_host }}
domain-needed
bogus-priv
local-ttl=5
{% for b in backends %}
host-record={{ b.name }}.node.bench.consul,{{ b.address }}
srv-host=_app._tcp.service.bench.consul,{{ b.name }}.node.bench.consul,{{ b.port }},1,{{ b.weight }}
txt-record={{ b.name }}.node.bench.consul,"weight={{ b.weight }}"
{% endfor %}
# 10 backends listed above
cname=app.service.bench.consul,{{ backends[0].name }}.node.bench.consul
log-queries=extra
`,
    'services.hcl.j2': `# managed: services watched by {{ bench_host }}
{% for b in backends %}
service {
  name = "{{ b.name }}"
  port = {{ b.port }}
}
{% endfor %}
`,
  };
}

const P = (rel: string) => `{{ root }}/${rel}`;

const owned = (f: PlainFile) => ({ ...(f.owner ? { owner: f.owner } : {}), ...(f.group ? { group: f.group } : {}) });

function provisionPlaybook(st: DesiredState): unknown {
  const steps: unknown[] = [];
  const notify = st.handler ? { notify: st.handler.name } : {};
  for (const d of st.dirs) steps.push({ name: `directory ${d.path}`, directory: { path: P(d.path), mode: d.mode } });
  for (const d of st.modeOwner) {
    steps.push({ name: `mode/owner ${d.path}`, directory: { path: P(d.path), mode: d.mode, owner: d.owner, group: d.group } });
  }
  for (const f of st.files) steps.push({ name: `file ${f.path}`, file: { dest: P(f.path), content: f.content, mode: f.mode, ...owned(f) } });
  for (const t of st.templates) {
    steps.push({ name: `template ${t.dest}`, template: { src: t.src, dest: P(t.dest), mode: t.mode }, ...(t.notify ? notify : {}) });
  }
  for (const l of st.lines) {
    steps.push({ name: `line ${l.path} ${l.line.split('=')[0]}`, line: { path: P(l.path), regexp: l.regexp, line: l.line, create: true, mode: '0644' } });
  }
  return { steps, ...(st.handler ? { handlers: { [st.handler.name]: { command: { cmd: st.handler.cmd } } } } : {}) };
}

function ansiblePlaybook(st: DesiredState): unknown {
  const tasks: unknown[] = [];
  const notify = st.handler ? { notify: st.handler.name } : {};
  for (const d of st.dirs) tasks.push({ name: `directory ${d.path}`, 'ansible.builtin.file': { path: P(d.path), state: 'directory', mode: d.mode } });
  for (const d of st.modeOwner) {
    tasks.push({ name: `mode/owner ${d.path}`, 'ansible.builtin.file': { path: P(d.path), state: 'directory', mode: d.mode, owner: d.owner, group: d.group } });
  }
  for (const f of st.files) tasks.push({ name: `file ${f.path}`, 'ansible.builtin.copy': { dest: P(f.path), content: f.content, mode: f.mode, ...owned(f) } });
  for (const t of st.templates) {
    tasks.push({ name: `template ${t.dest}`, 'ansible.builtin.template': { src: t.src, dest: P(t.dest), mode: t.mode }, ...(t.notify ? notify : {}) });
  }
  for (const l of st.lines) {
    tasks.push({ name: `line ${l.path} ${l.line.split('=')[0]}`, 'ansible.builtin.lineinfile': { path: P(l.path), regexp: l.regexp, line: l.line, create: true, mode: '0644' } });
  }
  return [
    {
      name: 'load balancer',
      hosts: 'lb',
      gather_facts: false,
      tasks,
      handlers: st.handler ? [{ name: st.handler.name, 'ansible.builtin.shell': st.handler.cmd }] : [],
    },
  ];
}

export const STEP_COUNT = stepCount(LB_STATE);

/** Write every tool's inventory, playbook and templates for N hosts under `work`. */
export function writeFixture(work: string, n: number, ssh: SshEndpoint, cpDir: string, state: DesiredState = LB_STATE): Fixture {
  const hosts = hostNames(n);
  const sources = templateSources();

  // provision: inventory/, playbooks/, templates/ (the default layout).
  const pv = path.join(work, 'provision');
  for (const d of ['inventory', 'playbooks', 'templates']) mkdirSync(path.join(pv, d), { recursive: true });
  for (const [name, text] of Object.entries(sources)) writeFileSync(path.join(pv, 'templates', name), text);
  writeFileSync(path.join(pv, 'playbooks', 'lb.yaml'), stringify(provisionPlaybook(state), { lineWidth: 0 }));
  const provisionInventory = path.join(pv, 'inventory', `bench-${n}.yaml`);
  writeFileSync(
    provisionInventory,
    stringify(
      {
        settings: { known_hosts: ssh.knownHostsPath, host_key_policy: 'strict', forks: n },
        defaults: { user: 'root', port: ssh.port, identity: ssh.clientKeyPath, connect_timeout: 60 },
        vars: { backends: BACKENDS },
        groups: { lb: { hosts, playbooks: ['lb'] } },
        hosts: Object.fromEntries(
          hosts.map((h) => [h, { address: ssh.host, lock_file: `/run/lock/provision-bench-${h}.lock`, vars: { root: `${BENCH_ROOT}/${h}`, bench_host: h } }]),
        ),
      },
      { lineWidth: 0 },
    ),
  );

  // Ansible: ansible.cfg, inventory, playbook, templates/ beside the playbook.
  const an = path.join(work, 'ansible');
  mkdirSync(path.join(an, 'templates'), { recursive: true });
  for (const [name, text] of Object.entries(sources)) writeFileSync(path.join(an, 'templates', name), text);
  const ansiblePlaybookPath = path.join(an, 'site.yaml');
  writeFileSync(ansiblePlaybookPath, stringify(ansiblePlaybook(state), { lineWidth: 0 }));
  const controlPaths = hosts.map((h) => path.join(cpDir, h));
  const ansibleInventory = path.join(an, `hosts-${n}.yaml`);
  writeFileSync(
    ansibleInventory,
    stringify(
      {
        all: {
          vars: {
            ansible_user: 'root',
            ansible_port: ssh.port,
            ansible_ssh_private_key_file: ssh.clientKeyPath,
            ansible_python_interpreter: '/usr/bin/python3',
            backends: BACKENDS,
          },
          children: {
            lb: {
              hosts: Object.fromEntries(
                // One ControlPersist master per host, as with N real machines (by default
                // every alias of 127.0.0.1:PORT would share one master).
                hosts.map((h, i) => [h, { ansible_host: ssh.host, ansible_control_path: controlPaths[i], root: `${BENCH_ROOT}/${h}`, bench_host: h }]),
              ),
            },
          },
        },
      },
      { lineWidth: 0 },
    ),
  );
  const ansibleConfig = path.join(an, 'ansible.cfg');
  writeFileSync(
    ansibleConfig,
    [
      '[defaults]',
      `forks = ${n}`,
      'host_key_checking = True',
      'gathering = explicit',
      'retry_files_enabled = False',
      'interpreter_python = /usr/bin/python3',
      `local_tmp = ${path.join(an, 'tmp')}`,
      '',
      '[ssh_connection]',
      'pipelining = True',
      // Ansible's default ssh_args minus -C (compression only costs CPU on loopback),
      // plus the benchmark's known_hosts, verified strictly.
      `ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=${ssh.knownHostsPath} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes`,
      '',
    ].join('\n'),
  );
  const pyinfra = writePyinfraFixture(work, hosts, ssh, state);
  return { hosts, provisionInventory, ansibleDir: an, ansibleConfig, ansiblePlaybook: ansiblePlaybookPath, ansibleInventory, controlPaths, pyinfra };
}
