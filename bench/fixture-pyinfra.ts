/**
 * The benchmark's desired state as a pyinfra 3 deploy: the same 28 steps and handler as
 * provision's playbook and Ansible's (bench/fixture.ts), written per N into a work dir:
 *
 *   state.json    the steps' data (the very arrays the other two tools are written from)
 *   deploy.py     one pyinfra operation per step, read from state.json
 *   inventory.py  N hosts, each an alias of the one loopback sshd, strict host keys
 *   templates/    the shared Jinja2 sources, turned into pyinfra's dialect (below)
 *
 * pyinfra renders templates without `trim_blocks` (its Jinja2 Environment is fixed), while
 * Ansible and nunjucks trim the newline after a block tag. `trimBlocks` removes that
 * newline from the source instead, which is exactly what trim_blocks does at render time,
 * so the three tools write byte-identical files (the run checks it on disk).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BACKENDS, BENCH_ROOT, LB_STATE, templateSources, type DesiredState, type SshEndpoint } from './fixture.js';

export interface PyinfraFixture {
  dir: string;
  inventory: string;
  deploy: string;
}

/** Jinja2 `trim_blocks` applied to the source: drop the first newline after `%}` and `#}`. */
export function trimBlocks(source: string): string {
  return source.replace(/([%#]\})\r?\n/g, '$1');
}

/** Python string literal (JSON's escapes are valid Python). */
const py = (s: string) => JSON.stringify(s);

/** deploy.py: the handler runs last, only on a host where a notifying template changed. */
export const DEPLOY_PY = `# The benchmark's desired state for pyinfra 3 (written by bench/fixture-pyinfra.ts).
import io
import json

from pyinfra import host
from pyinfra.operations import files, server

with open("state.json", encoding="utf-8") as f:
    S = json.load(f)

root = host.data.root
P = lambda rel: root + "/" + rel

for d in S["dirs"]:
    files.directory(name="directory " + d["path"], path=P(d["path"]), mode=d["mode"])
for d in S["modeOwner"]:
    files.directory(
        name="mode/owner " + d["path"], path=P(d["path"]), mode=d["mode"], user=d["owner"], group=d["group"]
    )
for f in S["files"]:
    files.put(
        name="file " + f["path"],
        src=io.BytesIO(f["content"].encode()),
        dest=P(f["path"]),
        mode=f["mode"],
        user=f.get("owner"),
        group=f.get("group"),
    )
notifying = []
for t in S["templates"]:
    op = files.template(
        name="template " + t["dest"],
        src="templates/" + t["src"],
        dest=P(t["dest"]),
        mode=t["mode"],
        root=root,
        bench_host=host.data.bench_host,
        backends=host.data.backends,
    )
    if t["notify"]:
        notifying.append(op)
for l in S["lines"]:
    files.line(name="line " + l["path"], path=P(l["path"]), line=l["regexp"], replace=l["line"])
# pyinfra 3.0b0's any_changed() calls did_change(), a context decorator there: ask _did_change().
if S.get("handler"):
    server.shell(
        name=S["handler"]["name"],
        commands=[S["handler"]["cmd"].replace("{{ root }}", root)],
        _if=[lambda: any(op._did_change() for op in notifying)],
    )
`;

export function pyinfraInventory(hosts: string[], ssh: SshEndpoint): string {
  const data = (h: string) =>
    [
      `"ssh_hostname": ${py(ssh.host)}`,
      `"ssh_port": ${ssh.port}`,
      '"ssh_user": "root"',
      `"ssh_key": ${py(ssh.clientKeyPath)}`,
      `"ssh_known_hosts_file": ${py(ssh.knownHostsPath)}`,
      '"ssh_strict_host_key_checking": "yes"',
      '"ssh_allow_agent": False',
      '"ssh_look_for_keys": False',
      `"root": ${py(`${BENCH_ROOT}/${h}`)}`,
      `"bench_host": ${py(h)}`,
      '"backends": BACKENDS',
    ].join(', ');
  return [
    '# N aliases of the benchmark\'s loopback sshd (written by bench/fixture-pyinfra.ts).',
    `BACKENDS = ${JSON.stringify(BACKENDS)}`,
    'lb = [',
    ...hosts.map((h) => `    (${py(h)}, {${data(h)}}),`),
    ']',
    '',
  ].join('\n');
}

export function writePyinfraFixture(work: string, hosts: string[], ssh: SshEndpoint, state: DesiredState = LB_STATE): PyinfraFixture {
  const dir = path.join(work, 'pyinfra');
  mkdirSync(path.join(dir, 'templates'), { recursive: true });
  for (const [name, text] of Object.entries(templateSources())) writeFileSync(path.join(dir, 'templates', name), trimBlocks(text));
  writeFileSync(path.join(dir, 'state.json'), JSON.stringify(state, null, 2) + '\n');
  const deploy = path.join(dir, 'deploy.py');
  writeFileSync(deploy, DEPLOY_PY);
  const inventory = path.join(dir, `inventory_${hosts.length}.py`);
  writeFileSync(inventory, pyinfraInventory(hosts, ssh));
  return { dir, inventory, deploy };
}
