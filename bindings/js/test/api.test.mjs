// The JavaScript API as a page uses it (index.js: wasm loaded with top-level await), in Node,
// against the emulator on loopback. Run by scripts/test-wasm.sh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

import { SafeconvClient, SafeconvError, Session, checkNin, setLogger, version } from '../index.js';
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
async function rejection(fn, name = 'SafeconvError') {
  try {
    await fn();
  } catch (error) {
    assert.ok(error instanceof SafeconvError, `expected a SafeconvError, got ${error}`);
    assert.ok(error instanceof Error);
    assert.equal(error.name, name);
    return error;
  }
  assert.fail('expected an error');
}

/** Expects `fn` to reject as aborted through `signal`: an AbortError whose cause is the reason. */
async function aborted(fn, signal) {
  const error = await rejection(fn, 'AbortError');
  assert.equal(error.kind, 'aborted');
  assert.equal(error.cause, signal.reason);
  assert.equal(error.transient, false);
  return error;
}

/** Until `check()` is true (polled every 50 ms, at most 5 s). */
async function eventually(check) {
  for (let i = 0; i < 100; i += 1) {
    if (await check()) return true;
    await sleep(50);
  }
  return false;
}

const emulatorStatus = async (id) => (await admin('GET', `/emulator/sessions/${id}`)).status;

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
  const error = await aborted(() => session.wait({ signal: controller.signal }), controller.signal);
  assert.match(error.message, /cancelled at Signicat/);
  assert.ok(Date.now() - started < 5000);
  assert.equal((await admin('GET', `/emulator/sessions/${session.id}`)).status, 'CANCELLED');
  assert.equal(session.status, 'CANCELLED');
});

test('an already aborted signal cancels at once', async () => {
  const nin = '16057610011';
  await behave(nin, { behaviour: 'never-answer' });
  const session = await client().startSafeConversation({ nin });
  const signal = AbortSignal.abort();
  await aborted(() => session.wait({ signal }), signal);
  assert.equal(await emulatorStatus(session.id), 'CANCELLED');
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
  assert.deepEqual(await session.wait(), { kind: 'declined', status: 'ABORT' });

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
  const error = await rejection(() => session.wait({ timeoutMs: 400 }), 'TimeoutError');
  assert.equal(error.kind, 'timeout');
  assert.equal(error.cause.name, 'TimeoutError');
  assert.equal(await emulatorStatus(session.id), 'CANCELLED');
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
  assert.ok(error.cause instanceof Error);
  assert.equal(error.cause.message, 'backend says no');

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

test('AbortSignal.timeout() on a wait is a TimeoutError, and the session is cancelled', async () => {
  const nin = '25028510007';
  await behave(nin, { behaviour: 'never-answer' });
  const session = await client().startSafeConversation({ nin });
  const signal = AbortSignal.timeout(300);
  const error = await rejection(() => session.wait({ signal }), 'TimeoutError');
  assert.equal(error.kind, 'timeout');
  assert.equal(error.cause, signal.reason);
  assert.equal(error.cause.name, 'TimeoutError');
  assert.equal(await emulatorStatus(session.id), 'CANCELLED');
});

test('a start aborted after its create was sent leaves the session cancelled at Signicat', async () => {
  const nin = '26038610030';
  await behave(nin, { behaviour: 'never-answer' });
  const records = [];
  setLogger((record) => records.push(record), { level: 'info' });
  try {
    // The emulator creates the session at once and answers 800 ms later.
    await admin('POST', '/emulator/faults', { endpoint: 'create-session', fault: { kind: 'slow', delayMs: 800 } });
    const before = await admin('GET', '/emulator/counters');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const started = Date.now();
    const error = await aborted(() => client().startSafeConversation({ nin, signal: controller.signal }), controller.signal);
    assert.ok(Date.now() - started < 800, 'rejected before the create was answered');
    assert.match(error.message, /startSafeConversation\(\) was aborted/);
    const created = () => records.find((r) => r.message === 'session created');
    assert.ok(await eventually(created), 'the create finished in the background');
    const id = created().fields.session_id;
    assert.ok(await eventually(async () => (await emulatorStatus(id)) === 'CANCELLED'));
    const after = await admin('GET', '/emulator/counters');
    assert.equal(after.createRequests - before.createRequests, 1);
  } finally {
    setLogger(null);
  }
});

test('a start whose signal is already aborted sends nothing', async () => {
  const before = await admin('GET', '/emulator/counters');
  const signal = AbortSignal.abort('hung up');
  const error = await aborted(() => client().startSafeConversation({ nin: '27048710005', signal }), signal);
  assert.equal(error.cause, 'hung up');
  const after = await admin('GET', '/emulator/counters');
  assert.equal(after.createRequests, before.createRequests);
});

test('the tokenProvider gets a signal that aborts when its start is aborted', async () => {
  const before = await admin('GET', '/emulator/counters');
  let providerSignal;
  const stalled = client({
    tokenProvider: ({ signal }) => {
      providerSignal = signal;
      return new Promise(() => {}); // a backend that never answers
    },
  });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 150);
  await aborted(() => stalled.startSafeConversation({ nin: '28058810020', signal: controller.signal }), controller.signal);
  assert.ok(providerSignal instanceof AbortSignal);
  assert.ok(await eventually(() => providerSignal.aborted), 'the provider was told');
  const after = await admin('GET', '/emulator/counters');
  assert.equal(after.createRequests, before.createRequests, 'no create without a token');
});

test('getSession() and cancel() take a signal', async () => {
  const nin = '29068910070';
  await behave(nin, { behaviour: 'never-answer' });
  const safeconv = client();
  const session = await safeconv.startSafeConversation({ nin });
  const signal = AbortSignal.abort();
  await aborted(() => safeconv.getSession(session.id, { signal }), signal);
  await aborted(() => session.cancel({ signal }), signal);
  assert.notEqual(await emulatorStatus(session.id), 'CANCELLED');
  const live = new AbortController();
  assert.equal((await safeconv.getSession(session.id, { signal: live.signal })).id, session.id);
  assert.equal((await session.cancel({ signal: live.signal })).kind, 'cancelled');
});

test('the ABORTED spelling of the decline ends a wait as declined', async () => {
  const nin = '30078010041';
  await behave(nin, { behaviour: 'decline-aborted', afterMs: 300 });
  const session = await client().startSafeConversation({ nin });
  assert.deepEqual(await session.wait(), { kind: 'declined', status: 'ABORT' });
});

test('the binding message stays readable after the session ended', async () => {
  const nin = '01028110029';
  await behave(nin, { behaviour: 'approve', afterMs: 300 });
  const session = await client().startSafeConversation({ nin });
  const words = session.bindingMessage;
  assert.ok(words.length > 0);
  const states = [];
  assert.equal((await session.wait({ onStatus: (state) => states.push(state) })).kind, 'success');
  assert.equal(session.bindingMessage, words);
  assert.equal(session.state.bindingMessage, words);
  assert.ok(states.every((state) => state.bindingMessage === words));
});

test('unknown options are named as such', async () => {
  const safeconv = client();
  const misspelt = await rejection(() => safeconv.startSafeConversation({ nim: '01018010018' }));
  assert.equal(misspelt.kind, 'invalid-input');
  assert.equal(misspelt.field, 'nim');
  assert.match(misspelt.message, /unknown option/);
  assert.equal((await rejection(() => client({ accountID: ACCOUNT_ID }))).field, 'accountID');
  assert.equal((await rejection(() => client({ clientSecret: 's' }))).field, 'clientSecret');
  const session = await rejection(() => safeconv.getSession('x', { signall: AbortSignal.abort() }));
  assert.equal(session.field, 'signall');
  assert.equal((await rejection(() => checkNin('01018010018', { allowSynthetics: true }))).field, 'allowSynthetics');
  assert.equal((await rejection(() => safeconv.startSafeConversation({ nin: '01018010018', signal: {} }))).reason, 'must be an AbortSignal');
});

test('a client or session used after free() fails with a SafeconvError', async () => {
  const safeconv = client();
  const nin = '02038210079';
  await behave(nin, { behaviour: 'never-answer' });
  const session = await safeconv.startSafeConversation({ nin });
  safeconv.free();
  const error = await rejection(() => safeconv.getSession(session.id));
  assert.equal(error.kind, 'invalid-input');
  assert.match(error.message, /freed/);
  assert.ok(error.cause instanceof Error);
  // A promise-returning method rejects rather than throwing.
  const pending = safeconv.startSafeConversation({ nin });
  assert.ok(pending instanceof Promise);
  await rejection(() => pending);
  // Sessions hold their own handle on the client.
  assert.equal((await session.cancel()).kind, 'cancelled');
  session.free();
  assert.match((await rejection(() => session.status)).message, /freed/);
  assert.equal((await rejection(() => session.wait())).kind, 'invalid-input');
});

test('setLogger sends the core log records, NINs masked, to a function or a console', async () => {
  const nin = '03048310019';
  await behave(nin, { behaviour: 'approve', afterMs: 200 });
  const records = [];
  setLogger((record) => records.push(record), { level: 'debug' });
  const lines = [];
  try {
    const session = await client().startSafeConversation({ nin });
    assert.equal((await session.wait()).kind, 'success');
    const created = records.find((r) => r.message === 'session created');
    assert.equal(created.level, 'info');
    assert.ok(created.target.startsWith('safeconv'));
    assert.equal(created.fields.session_id, session.id);
    assert.ok(records.some((r) => r.level === 'debug'));
    assert.ok(!JSON.stringify(records).includes(nin), 'a NIN in the logs');

    const consoleLike = { warn: (...args) => lines.push(['warn', ...args]), info: (...args) => lines.push(['info', ...args]) };
    setLogger(consoleLike, { level: 'info' });
    const again = await client().startSafeConversation({ nin });
    await again.cancel();
    assert.ok(lines.some(([method, text]) => method === 'info' && /session created/.test(text)), JSON.stringify(lines));
  } finally {
    setLogger(null);
  }
  const seen = records.length + lines.length;
  await (await client().startSafeConversation({ nin })).cancel();
  assert.equal(records.length + lines.length, seen, 'nothing after setLogger(null)');
  assert.equal((await rejection(() => setLogger(() => {}, { level: 'loud' }))).field, 'level');
  assert.equal((await rejection(() => setLogger('console'))).field, 'logger');
});

test('version is the package version', async () => {
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
  assert.equal(version, pkg.version);
  assert.match(version, /^\d+\.\d+\.\d+/);
});
