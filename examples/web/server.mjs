#!/usr/bin/env node
// The softphone example's server: serves the "verify caller" panel and the safeconv package on
// loopback, and stands in for the integrator's backend with one endpoint, POST /api/token,
// which fetches an access token from Signicat's token endpoint. The client secret stays here,
// server-side; the page only ever sees short-lived access tokens.
//
//   SAFECONV_EMULATOR_URL=http://127.0.0.1:PORT node examples/web/server.mjs
//   node examples/web/server.mjs             # starts the emulator itself (cargo run)
//
// Environment: SAFECONV_EMULATOR_URL (the API to use; else an emulator is started),
// SAFECONV_CLIENT_ID / SAFECONV_CLIENT_SECRET / SAFECONV_ACCOUNT_ID (default: the emulator's
// demo client), PORT (default 8080; 0 picks a free one).
// Prints `SAFECONV_EXAMPLE_URL=http://127.0.0.1:PORT` on its first line once it listens.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = normalize(join(here, '..', '..'));
const packageDir = join(root, 'bindings', 'js');

const clientId = process.env.SAFECONV_CLIENT_ID ?? 'safeconv-demo-client';
const clientSecret = process.env.SAFECONV_CLIENT_SECRET ?? 'safeconv-demo-secret';
const accountId = process.env.SAFECONV_ACCOUNT_ID ?? 'a-spge-emulator';
const port = Number(process.env.PORT ?? 8080);

/** Starts the emulator with cargo and resolves to its URL. */
function startEmulator() {
  const child = spawn('cargo', ['run', '-q', '-p', 'safeconv-emulator', '--', '--port', '0', '--exit-on-stdin-close'], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  process.on('exit', () => child.kill());
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`the emulator exited (${code})`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('SAFECONV_EMULATOR_URL=')) resolve(line.slice('SAFECONV_EMULATOR_URL='.length));
    });
  });
}

const apiUrl = (process.env.SAFECONV_EMULATOR_URL || (await startEmulator())).replace(/\/$/, '');

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
};

/** The file under `base` for a URL path, or null if it would leave `base`. */
function fileUnder(base, urlPath) {
  const file = normalize(join(base, decodeURIComponent(urlPath)));
  return file === base || file.startsWith(base + sep) ? file : null;
}

function send(response, status, body, type = 'application/json') {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  response.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
}

/**
 * The integrator's backend: a real one must first check that the caller of this endpoint is a
 * signed-in agent (session cookie, CSRF token), then fetch (and may cache) a token.
 */
async function token(response) {
  const answer = await fetch(`${apiUrl}/auth/open/connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      scope: 'signicat-api',
      client_id: clientId,
      client_secret: clientSecret,
    }),
  });
  if (!answer.ok) return send(response, 502, { error: `the token endpoint answered HTTP ${answer.status}` });
  const body = await answer.json();
  send(response, 200, { accessToken: body.access_token, expiresIn: body.expires_in });
}

const server = createServer(async (request, response) => {
  try {
    const { pathname } = new URL(request.url ?? '/', 'http://localhost');
    if (pathname === '/api/token' && request.method === 'POST') return await token(response);
    if (pathname === '/api/config' && request.method === 'GET') {
      // Against the emulator (loopback) the page may poll faster than Signicat allows.
      return send(response, 200, { baseUrl: apiUrl, accountId, pollIntervalMs: 500 });
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, { error: 'method not allowed' });
    let file;
    if (pathname.startsWith('/safeconv/')) {
      const rest = pathname.slice('/safeconv/'.length);
      // Only what the package publishes.
      if (rest !== 'index.js' && !rest.startsWith('pkg/')) return send(response, 404, { error: 'not found' });
      file = fileUnder(packageDir, rest);
    } else {
      file = fileUnder(here, pathname === '/' ? 'index.html' : pathname.slice(1));
      if (file && !['.html', '.js', '.css', '.svg'].includes(extname(file))) file = null;
      if (file && file.startsWith(join(here, 'test') + sep)) file = null;
      if (file && file === join(here, 'server.mjs')) file = null;
    }
    if (!file) return send(response, 404, { error: 'not found' });
    const body = await readFile(file).catch(() => null);
    if (!body) return send(response, 404, { error: 'not found' });
    send(response, 200, body, types[extname(file)] ?? 'application/octet-stream');
  } catch (error) {
    console.error('example server:', error);
    if (!response.headersSent) send(response, 500, { error: 'internal error' });
  }
});

server.listen(port, '127.0.0.1', () => {
  const { port: actual } = server.address();
  console.log(`SAFECONV_EXAMPLE_URL=http://127.0.0.1:${actual}`);
  console.error(`verify-caller panel on http://127.0.0.1:${actual} (API: ${apiUrl})`);
});

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
