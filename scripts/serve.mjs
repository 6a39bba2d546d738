#!/usr/bin/env node
// Static dev server for the demo (sirv + node:http).
//
//   /          → web/demo/   (index.html, style.css, main.js and the modules it imports, render/*.js among them)
//   /dist/     → dist/       (the package bundle built by scripts/build.sh; the demo imports lrp-wasm.js)
//   /models/   → web/models/ (bundled ONNX models)
//
// Nothing else is exposed (no node_modules, no sources outside these folders, no dotfiles).
// Files are looked up on every request (sirv `dev` mode), so a rebuilt bundle or a freshly trained
// model is served without restarting; every response carries `Cache-Control: no-cache`.
// Every response also carries the headers of cross-origin isolation (COOP same-origin, COEP require-corp):
// they give the page SharedArrayBuffer, so the package loads its multi-threaded engine there.
//
//   node scripts/serve.mjs              # http://localhost:8080  (PORT / HOST env override)
//   import { startServer } from './scripts/serve.mjs';
//   const { url, close } = await startServer({ port: 0 });   // random free port, for tests

import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sirv from 'sirv';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.npy': 'application/octet-stream',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

function staticDir(dir) {
  return sirv(dir, {
    dev: true, // stat on each request: picks up rebuilt dist/ and newly trained models
    etag: true, // dev + etag → sirv sends `Cache-Control: no-cache` with a weak ETag
    dotfiles: false,
    extensions: ['html'],
    setHeaders(res, pathname) {
      const type = MIME[path.extname(pathname).toLowerCase()];
      if (type) res.setHeader('Content-Type', type);
      res.setHeader('Cache-Control', 'no-cache');
      res.setHeader('X-Content-Type-Options', 'nosniff');
    },
  });
}

function sendText(res, status, text, extraHeaders = {}) {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-cache',
    ...extraHeaders,
  });
  res.end(text);
}

/** Returns the request handler; exported for embedding in other servers. */
export function createHandler({
  demoDir = path.join(ROOT, 'web', 'demo'),
  distDir = path.join(ROOT, 'dist'),
  modelsDir = path.join(ROOT, 'web', 'models'),
  crossOriginIsolated = true, // false: no COOP/COEP (tests of the single-thread fallback)
  contentSecurityPolicy = null, // a Content-Security-Policy header for every response (the CSP test)
} = {}) {
  const mounts = [
    { prefix: '/dist/', serve: staticDir(distDir) },
    { prefix: '/models/', serve: staticDir(modelsDir) },
    { prefix: '/', serve: staticDir(demoDir) },
  ];

  return function handler(req, res) {
    // Cross-origin isolation (crossOriginIsolated === true): everything is same-origin, so require-corp
    // blocks nothing the demo loads.
    if (crossOriginIsolated) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
      res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    }
    if (contentSecurityPolicy) res.setHeader('Content-Security-Policy', contentSecurityPolicy);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendText(res, 405, 'Method Not Allowed\n', { Allow: 'GET, HEAD' });
    }
    const rawUrl = req.url || '/';
    const q = rawUrl.indexOf('?');
    let pathname = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const search = q === -1 ? '' : rawUrl.slice(q);
    try {
      pathname = decodeURIComponent(pathname);
    } catch {
      return sendText(res, 400, 'Bad Request\n');
    }
    // No traversal, no dotfiles/dot-directories, no NUL or backslashes.
    if (
      !pathname.startsWith('/') ||
      pathname.includes('\0') ||
      pathname.includes('\\') ||
      pathname.split('/').some((seg) => seg.startsWith('.'))
    ) {
      return sendText(res, 404, 'Not Found\n');
    }
    if (pathname === '/dist' || pathname === '/models') {
      res.writeHead(301, { Location: pathname + '/' + search });
      return res.end();
    }
    const mount = mounts.find((m) => pathname.startsWith(m.prefix));
    // sirv reads req.url; hand it the path relative to the mount point.
    req.url = encodeURI(pathname.slice(mount.prefix.length - 1)) + search;
    mount.serve(req, res, () => sendText(res, 404, `Not Found: ${pathname}\n`));
  };
}

/**
 * Starts the server. `port: 0` picks a random free port.
 * @returns {Promise<{ url: string, port: number, server: http.Server, close(): Promise<void> }>}
 */
export function startServer({ port = 8080, host = 'localhost', ...dirs } = {}) {
  const server = http.createServer(createHandler(dirs));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
      const urlHost = shownHost.includes(':') ? `[${shownHost}]` : shownHost;
      const url = `http://${urlHost}:${addr.port}/`;
      let closing = null;
      resolve({
        url,
        port: addr.port,
        server,
        close() {
          closing ??= new Promise((done) => {
            server.close(() => done());
            server.closeAllConnections?.();
          });
          return closing;
        },
      });
    });
  });
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) {
  const port = process.env.PORT ? Number(process.env.PORT) : 8080;
  const host = process.env.HOST || 'localhost';
  startServer({ port, host }).then(
    ({ url, close }) => {
      console.log(`lrp-wasm demo: ${url}`);
      const stop = () => close().then(() => process.exit(0));
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    },
    (err) => {
      console.error(`serve: cannot listen on ${host}:${port}: ${err.message}`);
      process.exit(1);
    },
  );
}
