// End to end: the "verify caller" panel in headless Chromium (playwright-core driving the
// system's /usr/bin/chromium), served by server.mjs, with an agent login, through
// safeconv-relay (started by server.mjs), against the emulator on loopback.
// Needs SAFECONV_EMULATOR_URL (scripts/test-wasm.sh starts the emulator and sets it) and
// takes the relay binary from SAFECONV_RELAY_BIN when set (else server.mjs uses cargo run).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const EMULATOR_URL = (process.env.SAFECONV_EMULATOR_URL ?? '').replace(/\/$/, '');
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const ACCOUNT_ID = 'a-spge-emulator';

let server;
let pageUrl;
let profile;
let context;
const problems = [];

async function admin(method, path, body) {
  const response = await fetch(EMULATOR_URL + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(response.ok, `admin ${method} ${path}: HTTP ${response.status}`);
  return response.json();
}

/** The session as Signicat's API reports it, read with a token of our own. */
async function apiSession(id) {
  const tokenResponse = await fetch(`${EMULATOR_URL}/auth/open/connect/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      scope: 'signicat-api',
      client_id: 'safeconv-demo-client',
      client_secret: 'safeconv-demo-secret',
    }),
  });
  const { access_token: token } = await tokenResponse.json();
  const response = await fetch(`${EMULATOR_URL}/auth/rest/sessions/${id}?signicat-accountId=${ACCOUNT_ID}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(response.status, 200);
  return response.json();
}

before(async () => {
  assert.ok(EMULATOR_URL, 'set SAFECONV_EMULATOR_URL');
  const serverPath = fileURLToPath(new URL('../server.mjs', import.meta.url));
  server = spawn(process.execPath, [serverPath], {
    env: { ...process.env, SAFECONV_EMULATOR_URL: EMULATOR_URL, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  pageUrl = await new Promise((resolve, reject) => {
    server.on('exit', (code) => reject(new Error(`server.mjs exited (${code})`)));
    createInterface({ input: server.stdout }).on('line', (line) => {
      if (line.startsWith('SAFECONV_EXAMPLE_URL=')) resolve(line.slice('SAFECONV_EXAMPLE_URL='.length));
    });
  });
  profile = await mkdtemp(join(tmpdir(), 'safeconv-e2e-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});

after(async () => {
  await context?.close();
  server?.kill();
  if (profile) await rm(profile, { recursive: true, force: true });
});

/** Every request the pages sent: url and authorization header. */
const sent = [];

async function openPanel({ agent = 'kari.agent', password = 'demo-password' } = {}) {
  const page = await context.newPage();
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()} for ${response.url()}`);
  });
  page.on('request', (request) => sent.push({ url: request.url(), authorization: request.headers().authorization }));
  await page.goto(pageUrl);
  await page.waitForSelector('body[data-ready="true"]');
  if (await page.getByTestId('login').isVisible()) {
    await page.getByTestId('agent').fill(agent);
    await page.getByTestId('password').fill(password);
    await page.getByTestId('sign-in').click();
  }
  await page.getByTestId('nin').waitFor();
  return page;
}

test('a caller who confirms is shown as verified, with the name BankID gives', async () => {
  const nin = '25028510090';
  await admin('PUT', `/emulator/users/${nin}`, { behaviour: 'approve', afterMs: 1500 });
  const page = await openPanel();
  await page.getByTestId('nin').fill(nin);
  assert.match(await page.getByTestId('nin-hint').textContent(), /250285\*{5}/);
  await page.getByTestId('verify').click();

  // The binding message appears big, as the API gave it.
  const bindingMessage = page.getByTestId('binding-message');
  await page.waitForFunction(() => {
    const text = document.querySelector('[data-testid="binding-message"]')?.textContent ?? '';
    return text.length > 1 && text !== '…';
  });
  const id = (await page.getByTestId('session-id').textContent()).trim();
  const shown = (await bindingMessage.textContent()).trim();
  assert.equal(shown, (await apiSession(id)).idpData.bindingMessage);

  // What the agent needs on the call: the number that was sent (masked) and the time left.
  assert.equal((await page.getByTestId('sent-nin').textContent()).trim(), '250285*****');
  assert.match((await page.getByTestId('time-left').textContent()).trim(), /^\d+:\d\d$/);
  assert.equal((await page.getByTestId('agent-id').textContent()).trim(), 'kari.agent');
  // The session was created by the relay, not by the page.
  assert.match((await apiSession(id)).environment.userAgent, /^safeconv-relay\//);

  // Live status, then the result card with the verified name.
  await page.getByText('Waiting for the caller to confirm').waitFor();
  await page.getByTestId('verified-name').waitFor({ timeout: 15_000 });
  assert.equal((await page.getByTestId('result-title').textContent()).trim(), 'Verified');
  const name = (await page.getByTestId('verified-name').textContent()).trim();
  const final = await apiSession(id);
  assert.equal(final.status, 'SUCCESS');
  assert.equal(name, final.subject.name);
  await page.close();
});

test('the agent can cancel: the session is cancelled at Signicat', async () => {
  const nin = '26038610030';
  await admin('PUT', `/emulator/users/${nin}`, { behaviour: 'never-answer' });
  const page = await openPanel();
  await page.getByTestId('nin').fill(nin);
  await page.getByTestId('verify').click();
  await page.getByText('Waiting for the caller to confirm').waitFor();
  const id = (await page.getByTestId('session-id').textContent()).trim();
  await page.getByTestId('cancel').click();
  await page.getByTestId('result-title').getByText('Cancelled').waitFor();
  assert.equal((await admin('GET', `/emulator/sessions/${id}`)).status, 'CANCELLED');
  await page.close();
});

test('a number with wrong check digits cannot be sent', async () => {
  const page = await openPanel();
  await page.getByTestId('nin').fill('17029012345');
  assert.match(await page.getByTestId('nin-hint').textContent(), /check digits/);
  assert.equal(await page.getByTestId('verify').isDisabled(), true);
  await page.close();
});

test('a wrong password gets no panel', async () => {
  const fresh = await chromium.launchPersistentContext(await mkdtemp(join(tmpdir(), 'safeconv-e2e-login-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
  });
  try {
    const page = await fresh.newPage();
    await page.goto(pageUrl);
    await page.waitForSelector('body[data-ready="true"]');
    await page.getByTestId('agent').fill('kari.agent');
    await page.getByTestId('password').fill('guess');
    await page.getByTestId('sign-in').click();
    await page.getByText('Unknown agent or wrong password.').waitFor();
    assert.equal(await page.getByTestId('nin').isVisible(), false);
  } finally {
    await fresh.close();
  }
});

test('the page sends only the agent\'s JWT, and only to the relay', () => {
  const apiCalls = sent.filter((r) => r.url.includes('/auth/'));
  assert.ok(apiCalls.length > 0);
  for (const call of apiCalls) {
    assert.ok(!call.url.startsWith(EMULATOR_URL), `the page called Signicat directly: ${call.url}`);
    if (!call.authorization) continue; // CORS preflights carry none
    const [, payload] = call.authorization.replace(/^Bearer /, '').split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    assert.equal(claims.sub, 'kari.agent');
    assert.equal(claims.aud, 'safeconv-relay');
    assert.ok(!('scope' in claims));
  }
  assert.ok(apiCalls.some((c) => c.authorization), 'the relay calls carried the agent credential');
});

test('the page logged no errors', () => {
  assert.deepEqual(problems, []);
});
