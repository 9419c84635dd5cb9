#!/usr/bin/env node
// The softphone example's server: serves the "verify caller" panel and the safeconv package on
// loopback, and stands in for the call centre's own pieces:
//
//   - an agent login (POST /api/login, a session cookie) and a small OIDC-style issuer that
//     mints short-lived ES256 JWTs for the signed-in agent (POST /api/agent-token), with its
//     public key at /idp/jwks;
//   - safeconv-relay in front of Signicat (here: the emulator), started by this server, which
//     verifies those JWTs against /idp/jwks and alone holds the Signicat client secret.
//
// The page talks to the relay with the agent's JWT. It never sees the client secret or a
// Signicat access token.
//
//   SAFECONV_EMULATOR_URL=http://127.0.0.1:PORT node examples/web/server.mjs
//   node examples/web/server.mjs             # starts the emulator itself (cargo run)
//
// Environment: SAFECONV_EMULATOR_URL (the API; else an emulator is started), SAFECONV_CLIENT_ID /
// SAFECONV_CLIENT_SECRET / SAFECONV_ACCOUNT_ID (given to the relay only; default: the emulator's
// demo client), SAFECONV_RELAY_BIN (the relay binary; default: cargo run), PORT (default 8080;
// 0 picks a free one). Prints `SAFECONV_EXAMPLE_URL=http://127.0.0.1:PORT` once everything runs.
import { spawn } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, sign, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
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

/** The call centre's agents (a real one has its identity provider; passwords here are demo ones). */
const AGENTS = new Map([
  ['kari.agent', 'demo-password'],
  ['ola.agent', 'demo-password'],
]);
const AUDIENCE = 'safeconv-relay';
const TOKEN_LIFETIME_S = 300;

const children = [];
const tempDirs = [];
process.on('exit', () => {
  for (const child of children) child.kill();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));

/** Runs a server process that prints `PREFIX=URL` on stdout once it listens; resolves to the URL. */
function startChild(command, args, prefix, env = process.env) {
  const child = spawn(command, args, { cwd: root, env, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  // Only warnings and errors of the child reach our stderr.
  createInterface({ input: child.stderr }).on('line', (line) => {
    if (/"level":"(WARN|ERROR)"|error/i.test(line)) console.error(`${prefix.toLowerCase()}: ${line}`);
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`${command} exited (${code}) before it listened`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith(`${prefix}=`)) resolve(line.slice(prefix.length + 1).replace(/\/$/, ''));
    });
  });
}

const apiUrl =
  process.env.SAFECONV_EMULATOR_URL?.replace(/\/$/, '') ||
  (await startChild('cargo', ['run', '-q', '-p', 'safeconv-emulator', '--', '--port', '0', '--exit-on-stdin-close'], 'SAFECONV_EMULATOR_URL'));

// --- the issuer: one ES256 key, a JWKS, JWTs for signed-in agents ---------------------------------
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const kid = createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('base64url').slice(0, 16);
const jwks = { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'ES256' }] };
let issuer; // http://127.0.0.1:PORT/idp, once we listen

const b64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
function agentJwt(agent) {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64url({ alg: 'ES256', typ: 'JWT', kid })}.${b64url({ iss: issuer, aud: AUDIENCE, sub: agent, iat: now, nbf: now, exp: now + TOKEN_LIFETIME_S })}`;
  const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

// --- agent login sessions (HttpOnly cookie) -------------------------------------------------------
const logins = new Map(); // session id -> agent
function loggedInAgent(request) {
  const cookie = request.headers.cookie ?? '';
  const sid = /(?:^|;\s*)sid=([A-Za-z0-9_-]+)/.exec(cookie)?.[1];
  return sid ? logins.get(sid) : undefined;
}
function samePassword(given, expected) {
  const a = createHash('sha256').update(String(given)).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
async function jsonBody(request) {
  let text = '';
  for await (const chunk of request) {
    text += chunk;
    if (text.length > 4096) throw new Error('body too large');
  }
  return JSON.parse(text || '{}');
}

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

function send(response, status, body, type = 'application/json', headers = {}) {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers });
  response.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
}

let relayUrl; // set once the relay runs

async function api(request, response, pathname) {
  if (pathname === '/idp/jwks' && request.method === 'GET') return send(response, 200, jwks);
  // Every other API call comes from our own page (a header a cross-site form cannot send).
  if (request.headers['x-requested-with'] !== 'safeconv') return send(response, 403, { error: 'forbidden' });
  if (pathname === '/api/login' && request.method === 'POST') {
    const { agent, password } = await jsonBody(request).catch(() => ({}));
    if (typeof agent !== 'string' || !AGENTS.has(agent) || !samePassword(password ?? '', AGENTS.get(agent))) {
      return send(response, 401, { error: 'unknown agent or wrong password' });
    }
    const sid = randomBytes(24).toString('base64url');
    logins.set(sid, agent);
    return send(response, 200, { agent }, 'application/json', {
      'set-cookie': `sid=${sid}; HttpOnly; SameSite=Strict; Path=/api`,
    });
  }
  const agent = loggedInAgent(request);
  if (!agent) return send(response, 401, { error: 'not signed in' });
  if (pathname === '/api/me' && request.method === 'GET') {
    // Against the emulator (loopback) the page may poll faster than Signicat allows.
    return send(response, 200, { agent, baseUrl: relayUrl, accountId, pollIntervalMs: 500 });
  }
  if (pathname === '/api/agent-token' && request.method === 'POST') {
    // The agent's own credential for the relay: short-lived, names the agent, no Signicat rights.
    return send(response, 200, { accessToken: agentJwt(agent), expiresIn: TOKEN_LIFETIME_S });
  }
  return send(response, 404, { error: 'not found' });
}

const server = createServer(async (request, response) => {
  try {
    const { pathname } = new URL(request.url ?? '/', 'http://localhost');
    if (pathname === '/api/me' && request.method === 'GET' && !loggedInAgent(request)) {
      return send(response, 200, { agent: null });
    }
    if (pathname.startsWith('/api/') || pathname.startsWith('/idp/')) return await api(request, response, pathname);
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

await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}`;
issuer = `${origin}/idp`;

// --- the relay, in front of the emulator: it alone holds the Signicat secret ----------------------
const relayDir = mkdtempSync(join(tmpdir(), 'safeconv-example-relay-'));
tempDirs.push(relayDir);
writeFileSync(
  join(relayDir, 'relay.toml'),
  [
    '[policy]',
    'allow_synthetic = true        # the emulator\'s personas have synthetic numbers',
    'min_poll_interval_ms = 400',
    '',
  ].join('\n'),
);
const relayArgs = [
  '--listen', '127.0.0.1:0',
  '--config', join(relayDir, 'relay.toml'),
  '--database-url', `sqlite://${join(relayDir, 'relay.db')}`,
  '--jwks-url', `${origin}/idp/jwks`,
  '--issuer', issuer,
  '--audience', AUDIENCE,
  '--allowed-origin', origin,
];
const relayEnv = {
  ...process.env,
  SAFECONV_BASE_URL: apiUrl,
  SAFECONV_ACCOUNT_ID: accountId,
  SAFECONV_CLIENT_ID: clientId,
  SAFECONV_CLIENT_SECRET: clientSecret,
};
relayUrl = process.env.SAFECONV_RELAY_BIN
  ? await startChild(process.env.SAFECONV_RELAY_BIN, relayArgs, 'SAFECONV_RELAY_URL', relayEnv)
  : await startChild('cargo', ['run', '-q', '-p', 'safeconv-relay', '--', ...relayArgs], 'SAFECONV_RELAY_URL', relayEnv);

console.log(`SAFECONV_EXAMPLE_URL=${origin}`);
console.error(`verify-caller panel on ${origin} (relay: ${relayUrl}, API: ${apiUrl})`);
// Read once so a broken checkout fails here, not on the first page load.
readFileSync(join(here, 'index.html'));
