/**
 * A tiny static file server for the end-to-end tests and the demo: the containers
 * fetch the stand-in release zips from it (they have no route to HashiCorp).
 * GET/HEAD only, flat directory, no listing.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';

export interface StaticServer {
  /** Base URL with a trailing slash, e.g. `http://10.213.0.1:8099/`. */
  url: string;
  close(): Promise<void>;
}

export async function serveDirectory(dir: string, host: string, port: number): Promise<StaticServer> {
  const server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      // Flat directory: only the last path segment counts, so `..` cannot escape it.
      const name = basename(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
      const path = join(dir, name);
      const info = name ? await stat(path).catch(() => null) : null;
      if (!info?.isFile()) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(info.size),
      });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      createReadStream(path).pipe(res);
    })().catch((err: unknown) => {
      res.destroy(err instanceof Error ? err : new Error(String(err)));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shownHost}:${addr.port}/`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
