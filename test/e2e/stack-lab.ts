/**
 * The load-balancer lab shared by the end-to-end tests and `npm run demo`: real Debian
 * hosts (test/hosts), backends answering with their own names, the Consul and
 * consul-template stand-ins served as release zips from the controller, a per-run copy of
 * inventory/demo.yaml pointing at all of it, and the "Consul catalogue" the stand-ins
 * answer from, which the test controls.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { BACKEND_PORT, startLab, type Lab, type TestHost } from '../hosts/harness.js';
import { buildStandinZips } from '../standins/build.js';
import { serveDirectory, type StaticServer } from '../standins/server.js';
import { REPO } from '../support/cli.js';

export interface Instance {
  service: string;
  node: string;
  address: string;
  port: number;
}

export interface StackLab {
  lab: Lab;
  lbs: TestHost[];
  backends: TestHost[];
  inventoryPath: string;
  /** Environment for the CLI: the gossip key secret. */
  env: NodeJS.ProcessEnv;
  gossipKey: string;
  /** Replace the catalogue on every LB: DNS SRV/A records and consul-template's services. */
  publish(instances: Instance[]): Promise<void>;
  teardown(): Promise<void>;
}

export const GOSSIP_KEY = 'c2VjcmV0LWdvc3NpcC1rZXktZm9yLXRlc3RzIQ==';
const STANDIN_DIR = '/var/lib/consul-standin';

/** dnsmasq records as Consul's DNS answers them: SRV weight 1, one A record per node. */
export function catalogueFiles(instances: Instance[]): { records: string; services: string } {
  const records: string[] = [];
  const nodes = new Map<string, string>();
  for (const i of instances) {
    records.push(`srv-host=_${i.service}._tcp.service.consul,${i.node}.node.dc1.consul,${i.port},1,1`);
    nodes.set(i.node, i.address);
  }
  for (const [node, address] of nodes) records.push(`host-record=${node}.node.dc1.consul,${address}`);
  const services = instances.map((i) => `${i.service} ${i.node} ${i.address} ${i.port}`);
  return { records: records.join('\n') + '\n', services: services.join('\n') + '\n' };
}

export async function startStackLab(opts: {
  log: (line: string) => void;
  tomcats?: number;
  payments?: number;
  /** Load balancers lb-1 .. lb-N (default 2), all in the `lb` group. */
  lbs?: number;
}): Promise<StackLab> {
  const lbNames = Array.from({ length: opts.lbs ?? 2 }, (_, i) => `lb-${i + 1}`);
  const lab = await startLab({ hosts: lbNames, log: opts.log });
  let server: StaticServer | undefined;
  try {
    const backends: TestHost[] = [];
    for (let i = 1; i <= (opts.tomcats ?? 2); i++) backends.push(await lab.addBackend(`tomcat-${i}`));
    for (let i = 1; i <= (opts.payments ?? 1); i++) backends.push(await lab.addBackend(`payments-${i}`));

    const zipDir = path.join(lab.runDir, 'releases');
    const zips = await buildStandinZips(zipDir);
    server = await serveDirectory(zipDir, lab.controllerAddress, 0);
    opts.log(`stand-in releases served at ${server.url}`);

    // The per-run inventory: inventory/demo.yaml with this lab's addresses, keys and URLs.
    const doc = parseDocument(await readFile(path.join(REPO, 'inventory/demo.yaml'), 'utf8'));
    doc.setIn(['settings', 'known_hosts'], lab.knownHostsPath);
    doc.setIn(['settings', 'playbooks_dir'], path.join(REPO, 'playbooks'));
    doc.setIn(['settings', 'templates_dir'], path.join(REPO, 'templates'));
    doc.setIn(['settings', 'download_cache'], path.join(lab.runDir, 'download-cache'));
    doc.setIn(['defaults', 'identity'], lab.sshKeyPath);
    doc.setIn(['vars', 'consul_url'], new URL(zips.consul.urlName, server.url).href);
    doc.setIn(['vars', 'consul_sha256'], zips.consul.sha256);
    doc.setIn(['vars', 'consul_template_url'], new URL(zips.consulTemplate.urlName, server.url).href);
    doc.setIn(['vars', 'consul_template_sha256'], zips.consulTemplate.sha256);
    doc.setIn(['vars', 'consul_retry_join'], lab.hosts.map((h) => h.address));
    for (const h of lab.hosts) doc.setIn(['hosts', h.name, 'address'], h.address);
    doc.setIn(['groups', 'lb', 'hosts'], lbNames);
    const inventoryDir = path.join(lab.runDir, 'inventory');
    await mkdir(inventoryDir, { recursive: true });
    const inventoryPath = path.join(inventoryDir, 'demo.yaml');
    await writeFile(inventoryPath, doc.toString());

    const publish = async (instances: Instance[]) => {
      const { records, services } = catalogueFiles(instances);
      await Promise.all(
        lab.hosts.map(async (h) => {
          await lab.ssh(h, `mkdir -p ${STANDIN_DIR} && cat > ${STANDIN_DIR}/records.conf.new && mv ${STANDIN_DIR}/records.conf.new ${STANDIN_DIR}/records.conf`, { stdin: records });
          await lab.ssh(h, `cat > ${STANDIN_DIR}/services.new && mv ${STANDIN_DIR}/services.new ${STANDIN_DIR}/services`, { stdin: services });
        }),
      );
    };
    await publish(
      backends.map((b) => ({ service: b.name.replace(/-\d+$/, ''), node: b.name, address: b.address, port: BACKEND_PORT })),
    );
    const srv = server;
    return {
      lab,
      lbs: lab.hosts,
      backends,
      inventoryPath,
      env: { CONSUL_ENCRYPT: GOSSIP_KEY },
      gossipKey: GOSSIP_KEY,
      publish,
      teardown: async () => {
        await srv.close();
        await lab.teardown();
      },
    };
  } catch (e) {
    await server?.close();
    await lab.teardown();
    throw e;
  }
}
