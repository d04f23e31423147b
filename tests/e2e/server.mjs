// A static file server for dist/ on 127.0.0.1 (no dependencies), with the MIME types and the
// cross-origin isolation headers the app needs. `missing` lists paths (under root) answered with
// 404, to test a deployment with part of a build lost; `stall` lists paths never answered, to
// test a download that hangs (close such a server with closeAllConnections()).
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.css': 'text/css', '.json': 'application/json',
  '.png': 'image/png', '.svg': 'image/svg+xml', '.jsonl': 'application/x-ndjson', '.txt': 'text/plain',
};

export function serve(root, { missing = [], stall = [] } = {}) {
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://x');
      let path = normalize(join(root, decodeURIComponent(url.pathname)));
      if (!path.startsWith(normalize(root))) throw new Error('outside root');
      if (missing.some((m) => path === join(normalize(root), m))) throw new Error('hidden');
      if (stall.some((m) => path === join(normalize(root), m))) return;
      if ((await stat(path)).isDirectory()) path = join(path, 'index.html');
      const body = await readFile(path);
      res.writeHead(200, {
        'content-type': TYPES[extname(path)] ?? 'application/octet-stream', 'content-length': body.length,
        // Cross-origin isolation, as Trunk.toml's [serve] sends: shared memory for the
        // multi-threaded CPU worker (app/src/launch.rs).
        'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp',
      });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
