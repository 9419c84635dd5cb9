// The JavaScript API as a page uses it (index.js: wasm loaded with top-level await), in Node,
// against the emulator on loopback. Run by scripts/test-wasm.sh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

import { SafeconvClient, SafeconvError, Session, checkNin } from '../index.js';
import { ACCOUNT_ID, EMULATOR_URL, admin, backendToken, behave } from './emulator.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function client(options = {}) {
  return new SafeconvClient({
    baseUrl: EMULATOR_URL,
    accountId: ACCOUNT_ID,
    tokenProvider: backendToken,
    pollIntervalMs: 100,
    ...options,
  });
}

/** Runs `fn`, expecting it to throw or reject with a SafeconvError; returns the error. */
async function rejection(fn) {
  try {
    await fn();
  } catch (error) {
    assert.ok(error instanceof SafeconvError, `expected a SafeconvError, got ${error}`);
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'SafeconvError');
    return error;
  }
  assert.fail('expected an error');
}

test('checkNin validates locally and never echoes the number', () => {
  assert.deepEqual(checkNin('01018010018'), {
    valid: true,
    kind: 'fnr',
    masked: '010180*****',
    checkDigitsValid: true,
  });
  const wrong = checkNin('17029012345');
  assert.equal(wrong.valid, false);
  assert.equal(wrong.reason, 'check-digits');
  assert.ok(!wrong.message.includes('17029012345'));
  assert.equal(checkNin('17029012345', { allowInvalidCheckDigits: true }).checkDigitsValid, false);
  assert.equal(checkNin('1234').reason, 'length');
  assert.equal(checkNin('17829040085').reason, 'synthetic');
  assert.equal(checkNin('17829040085', { allowSynthetic: true }).kind, 'synthetic');
});

test('checkNin refuses what is not a string', async () => {
  const error = await rejection(() => checkNin(1018010018));
  assert.equal(error.kind, 'invalid-input');
  assert.equal(error.field, 'nin');
});

test('bad client options throw invalid-input naming the option', async () => {
  assert.equal((await rejection(() => new SafeconvClient())).field, 'options');
  assert.equal((await rejection(() => new SafeconvClient({ accountId: ACCOUNT_ID }))).field, 'tokenProvider');
  assert.equal((await rejection(() => client({ accountId: undefined }))).field, 'accountId');
  assert.equal((await rejection(() => client({ tokenProvider: 'secret' }))).reason, 'must be a function');
  const http = await rejection(() => client({ baseUrl: 'http://api.signicat.com' }));
  assert.equal(http.field, 'baseUrl');
  assert.match(http.message, /https/);
  assert.equal((await rejection(() => client({ pollIntervalMs: -1 }))).field, 'pollIntervalMs');
  assert.equal((await rejection(() => client({ pollIntervalMs: 0 }))).field, 'pollIntervalMs');
  assert.equal((await rejection(() => client({ baseUrl: 'https://api.signicat.com', pollIntervalMs: 100 }))).field, 'pollIntervalMs');
});

test('a Safe Conversation: binding message, live statuses, verified subject', async () => {
  const nin = '13027310081';
  await behave(nin, { behaviour: 'approve', afterMs: 600 });
  const safeconv = client();
  const session = await safeconv.startSafeConversation({ nin, externalReference: 'call-4711' });
  assert.ok(session instanceof Session);
  assert.equal(typeof session.id, 'string');
  assert.ok(session.bindingMessage.length > 0);
  assert.ok(session.expiresAt instanceof Date);
  assert.ok(session.expiresAt.getTime() > Date.now());
  assert.equal(session.state.bindingMessage, session.bindingMessage);
  assert.equal(session.state.externalReference, 'call-4711');
  assert.equal(JSON.parse(JSON.stringify(session)).id, session.id);

  const seen = [];
  const outcome = await session.wait({ onStatus: (state) => seen.push(state.status) });
  assert.equal(outcome.kind, 'success');
  assert.equal(outcome.status, 'SUCCESS');
  assert.ok(outcome.subject.name.length > 0);
  assert.equal(outcome.subject.nin.value, nin);
  assert.equal(outcome.subject.dateOfBirth, '1973-02-13');
  assert.deepEqual(seen, ['WAITING_FOR_USER', 'SUCCESS']);
  assert.equal(session.status, 'SUCCESS');
  assert.equal(session.state.subject.name, outcome.subject.name);
  // Waiting again on an ended session answers at once.
  assert.deepEqual(await session.wait(), outcome);
});

test('the token provider may return a plain string, and is asked once', async () => {
  const nin = '14037410021';
  await behave(nin, { behaviour: 'approve', afterMs: 300 });
  let calls = 0;
  const safeconv = client({
    tokenProvider: async () => {
      calls += 1;
      return (await backendToken()).accessToken;
    },
  });
  const session = await safeconv.startSafeConversation(nin);
  assert.equal((await session.wait()).kind, 'success');
  assert.equal(calls, 1);
});

test('aborting the signal cancels the session at Signicat', async () => {
  const nin = '15047510071';
  await behave(nin, { behaviour: 'never-answer' });
  const session = await client().startSafeConversation({ nin });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 300);
  const started = Date.now();
  const outcome = await session.wait({ signal: controller.signal });
  assert.deepEqual(outcome, { kind: 'cancelled', status: 'CANCELLED' });
  assert.ok(Date.now() - started < 5000);
  assert.equal((await admin('GET', `/emulator/sessions/${session.id}`)).status, 'CANCELLED');
  assert.equal(session.status, 'CANCELLED');
});

test('an already aborted signal cancels at once', async () => {
  const nin = '16057610011';
  await behave(nin, { behaviour: 'never-answer' });
  const session = await client().startSafeConversation({ nin });
  const outcome = await session.wait({ signal: AbortSignal.abort() });
  assert.equal(outcome.kind, 'cancelled');
});

test('cancel() stops a running wait, and both resolve to the outcome', async () => {
  const nin = '17067710061';
  await behave(nin, { behaviour: 'never-answer' });
  const session = await client().startSafeConversation({ nin });
  const waiting = session.wait();
  await sleep(250);
  const [cancelled, waited] = await Promise.all([session.cancel(), waiting]);
  assert.equal(cancelled.kind, 'cancelled');
  assert.deepEqual(waited, cancelled);
  assert.equal((await admin('GET', `/emulator/sessions/${session.id}`)).status, 'CANCELLED');
});

test('cancel() without a wait, and getSession() to pick a session up again', async () => {
  const nin = '18077810001';
  await behave(nin, { behaviour: 'never-answer' });
  const safeconv = client();
  const started = await safeconv.startSafeConversation({ nin });
  const again = await safeconv.getSession(started.id);
  assert.equal(again.id, started.id);
  assert.equal(again.bindingMessage, started.bindingMessage);
  assert.equal((await again.cancel()).kind, 'cancelled');
  assert.equal((await safeconv.getSession(started.id)).status, 'CANCELLED');
  // The first handle learns it on its next look.
  assert.equal((await started.wait()).kind, 'cancelled');
});

test('declined, failed and no-app sessions are outcomes, not errors', async () => {
  const safeconv = client();
  await behave('19087910051', { behaviour: 'decline', afterMs: 300 });
  let session = await safeconv.startSafeConversation({ nin: '19087910051' });
  assert.deepEqual(await session.wait(), { kind: 'aborted', status: 'ABORT' });

  await behave('20098010050', { behaviour: 'fail', afterMs: 300, code: 'authentication_failed' });
  session = await safeconv.startSafeConversation({ nin: '20098010050' });
  let outcome = await session.wait();
  assert.equal(outcome.kind, 'failed');
  assert.equal(outcome.status, 'ERROR');
  assert.equal(outcome.error.code, 'authentication_failed');

  await behave('21108110039', { behaviour: 'no-app' });
  session = await safeconv.startSafeConversation({ nin: '21108110039' });
  outcome = await session.wait();
  assert.equal(outcome.error.code, 'no_bankid_app');
});

test('timeoutMs cancels the session when the caller does not answer', async () => {
  const nin = '22118210089';
  await behave(nin, { behaviour: 'never-answer' });
  const session = await client().startSafeConversation({ nin });
  assert.equal((await session.wait({ timeoutMs: 400 })).kind, 'cancelled');
});

test('an onStatus that throws does not stop the wait', async () => {
  const nin = '23128310029';
  await behave(nin, { behaviour: 'approve', afterMs: 400 });
  const session = await client().startSafeConversation({ nin });
  const original = console.error;
  const logged = [];
  console.error = (...args) => logged.push(args);
  try {
    const outcome = await session.wait({
      onStatus: () => {
        throw new Error('listener bug');
      },
    });
    assert.equal(outcome.kind, 'success');
  } finally {
    console.error = original;
  }
  assert.ok(logged.some((args) => String(args[0]).includes('onStatus threw')));
});

test('invalid NINs are refused before anything is sent, unless allowed', async () => {
  const safeconv = client();
  const before = await admin('GET', '/emulator/counters');
  const error = await rejection(() => safeconv.startSafeConversation({ nin: '17029012345' }));
  assert.equal(error.kind, 'invalid-nin');
  assert.equal(error.reason, 'check-digits');
  assert.equal(error.transient, false);
  assert.ok(!error.message.includes('17029012345'));
  assert.equal((await rejection(() => safeconv.startSafeConversation({}))).field, 'nin');
  assert.equal((await rejection(() => safeconv.startSafeConversation({ nin: '01018010018', attributes: 'name' }))).field, 'attributes');
  assert.deepEqual(await admin('GET', '/emulator/counters'), before);

  await behave('17029012345', { behaviour: 'approve', afterMs: 200 });
  const session = await safeconv.startSafeConversation({ nin: '17029012345', allowInvalidNin: true });
  assert.equal((await session.wait()).kind, 'success');
});

test('a failing token provider is an authentication error with its message', async () => {
  const failing = client({
    tokenProvider: async () => {
      throw new Error('backend says no');
    },
  });
  const error = await rejection(() => failing.startSafeConversation({ nin: '24018410040' }));
  assert.equal(error.kind, 'authentication');
  assert.equal(error.code, 'token_provider_failed');
  assert.match(error.message, /backend says no/);

  const junk = client({ tokenProvider: async () => ({ token: 'x' }) });
  const bad = await rejection(() => junk.startSafeConversation({ nin: '24018410040' }));
  assert.equal(bad.code, 'invalid_token_provider_result');
});

test('API errors carry the HTTP status; no server is a transport error', async () => {
  const error = await rejection(() => client().getSession('no-such-session'));
  assert.equal(error.kind, 'api');
  assert.equal(error.httpStatus, 404);
  assert.equal(error.transient, false);

  const nowhere = client({ baseUrl: 'http://127.0.0.1:9' });
  const transport = await rejection(() => nowhere.getSession('x'));
  assert.equal(transport.kind, 'transport');
  assert.equal(transport.transient, true);
});

test('the declarations have no `any`', async () => {
  const dts = await readFile(new URL('../index.d.ts', import.meta.url), 'utf8');
  const code = dts.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  assert.doesNotMatch(code, /\bany\b/);
});
