// The npm package as its users get it: the `npm pack` tarball (SAFECONV_PACKAGE, made by
// scripts/pack-js.sh) installed into a fresh project, imported there from Node, and bundled with
// esbuild into a page that runs in headless Chromium (playwright-core driving the system's
// /usr/bin/chromium), against the emulator on loopback. Run by scripts/test-wasm.sh.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const run = promisify(execFile);
const TARBALL = process.env.SAFECONV_PACKAGE ?? '';
const EMULATOR_URL = (process.env.SAFECONV_EMULATOR_URL ?? '').replace(/\/$/, '');
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

// What a page of the app does with the package: verify one caller, against the emulator.
const APP = `
import { SafeconvClient, SafeconvError, checkNin, version } from '@safeconv/web';

export async function verify(emulator, nin) {
  const client = new SafeconvClient({
    baseUrl: emulator,
    accountId: 'a-spge-emulator',
    pollIntervalMs: 100,
    // Stands in for the app's backend, which holds the secret.
    tokenProvider: async ({ signal }) => {
      const response = await fetch(emulator + '/auth/open/connect/token', {
        method: 'POST',
        signal,
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          scope: 'signicat-api',
          client_id: 'safeconv-demo-client',
          client_secret: 'safeconv-demo-secret',
        }),
      });
      const body = await response.json();
      return { accessToken: body.access_token, expiresIn: body.expires_in };
    },
  });
  const session = await client.startSafeConversation({ nin });
  const outcome = await session.wait();
  const misspelt = await client.startSafeConversation({ nim: nin }).catch((e) => e);
  return {
    version,
    masked: checkNin(nin).masked,
    words: session.bindingMessage,
    kind: outcome.kind,
    name: outcome.subject?.name,
    unknownOption: misspelt instanceof SafeconvError ? misspelt.field : String(misspelt),
  };
}
`;

let project;
let cargoVersion;

before(async () => {
  assert.ok(TARBALL, 'set SAFECONV_PACKAGE to the tarball (scripts/pack-js.sh makes it)');
  assert.ok(EMULATOR_URL, 'set SAFECONV_EMULATOR_URL');
  cargoVersion = (await readFile(join(ROOT, 'Cargo.toml'), 'utf8')).match(/^version = "([^"]+)"/m)[1];
  project = await mkdtemp(join(tmpdir(), 'safeconv-npm-'));
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'fresh-app', private: true, type: 'module' }));
  await writeFile(join(project, 'app.js'), APP);
  // --offline: the package has no dependencies, and no test leaves loopback.
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', TARBALL], { cwd: project });
});

after(async () => {
  if (project) await rm(project, { recursive: true, force: true });
});

async function behave(nin, behaviour) {
  const response = await fetch(`${EMULATOR_URL}/emulator/users/${nin}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(behaviour),
  });
  assert.ok(response.ok);
}

test('the tarball carries the version of Cargo.toml and only what the package needs', async () => {
  assert.equal(basename(TARBALL), `safeconv-web-${cargoVersion}.tgz`);
  const installed = join(project, 'node_modules', '@safeconv', 'web');
  const pkg = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8'));
  assert.equal(pkg.version, cargoVersion);
  const files = (await readdir(installed, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(installed.length + 1))
    .sort();
  for (const needed of ['README.md', 'index.d.ts', 'index.js', 'package.json', 'pkg/safeconv.js', 'pkg/safeconv_bg.wasm']) {
    assert.ok(files.includes(needed), `${needed} missing from ${files}`);
  }
  assert.ok(files.some((file) => file.startsWith('pkg/snippets/') && file.endsWith('/error.js')), String(files));
  assert.ok(!files.some((file) => /^(src|test|node_modules)\/|Cargo|\.rs$/.test(file)), String(files));
});

test('Node imports the installed package and verifies a caller', async () => {
  const nin = '04058410069';
  await behave(nin, { behaviour: 'approve', afterMs: 300 });
  const script = `import { verify } from './app.js';
console.log(JSON.stringify(await verify(${JSON.stringify(EMULATOR_URL)}, ${JSON.stringify(nin)})));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: project });
  const result = JSON.parse(stdout);
  assert.equal(result.version, cargoVersion);
  assert.equal(result.masked, '040584*****');
  assert.equal(result.kind, 'success');
  assert.ok(result.words.length > 0);
  assert.ok(result.name.length > 0);
  assert.equal(result.unknownOption, 'nim');
});

test('a page bundled with esbuild runs the installed package in headless Chromium', async () => {
  const nin = '05068510009';
  await behave(nin, { behaviour: 'approve', afterMs: 300 });
  const dist = join(project, 'dist');
  await writeFile(
    join(project, 'main.js'),
    `import { verify } from './app.js';
verify(${JSON.stringify(EMULATOR_URL)}, ${JSON.stringify(nin)}).then(
  (result) => { document.body.dataset.result = JSON.stringify(result); },
  (error) => { document.body.dataset.error = String(error?.stack ?? error); },
);`,
  );
  await build({
    absWorkingDir: project,
    entryPoints: ['main.js'],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: dist,
    logLevel: 'warning',
  });
  // esbuild leaves `new URL('./pkg/safeconv_bg.wasm', import.meta.url)` as it is: the .wasm goes
  // next to the bundle, as the package's README says.
  await mkdir(join(dist, 'pkg'));
  await copyFile(join(project, 'node_modules/@safeconv/web/pkg/safeconv_bg.wasm'), join(dist, 'pkg/safeconv_bg.wasm'));
  await writeFile(join(dist, 'index.html'), '<!doctype html><title>app</title><script type="module" src="./main.js"></script>');
  const bundle = await readFile(join(dist, 'main.js'), 'utf8');
  assert.ok(!bundle.includes("from '@safeconv/web'"), 'the package is bundled in');

  const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
  const server = createServer(async (request, response) => {
    const path = new URL(request.url, 'http://localhost').pathname;
    try {
      const body = await readFile(join(dist, path === '/' ? 'index.html' : path.slice(1)));
      response.writeHead(200, { 'content-type': types[extname(path) || '.html'] ?? 'application/octet-stream' });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    const problems = [];
    page.on('pageerror', (error) => problems.push(String(error)));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => document.body.dataset.result || document.body.dataset.error, null, { timeout: 20000 });
    const { result, error } = await page.evaluate(() => ({ ...document.body.dataset }));
    assert.equal(error, undefined, error);
    const outcome = JSON.parse(result);
    assert.equal(outcome.version, cargoVersion);
    assert.equal(outcome.kind, 'success');
    assert.ok(outcome.words.length > 0);
    assert.equal(outcome.unknownOption, 'nim');
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    server.close();
  }
});
