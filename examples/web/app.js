// The "verify caller" panel of a browser softphone, on the safeconv JavaScript package.
// Served by server.mjs, which also plays the call centre's agent login and identity provider;
// the panel talks to safeconv-relay with the signed-in agent's own JWT, never to Signicat.
import { SafeconvClient, SafeconvError, checkNin } from '/safeconv/index.js';

const $ = (id) => document.getElementById(id);
const form = $('start');
const ninInput = $('nin');
const verifyButton = $('verify');
const hint = $('nin-hint');
const progress = $('progress');
const binding = $('binding');
const statusText = $('status');
const cancelButton = $('cancel');
const result = $('result');
const resultTitle = $('result-title');
const resultDetails = $('result-details');
const sessionId = $('session-id');

const STATUS_TEXT = {
  CREATED: 'Sending the request to the caller’s BankID app…',
  WAITING_FOR_USER: 'Waiting for the caller to confirm in the BankID app…',
  SUCCESS: 'Confirmed',
  ABORT: 'The caller declined',
  CANCELLED: 'Cancelled',
  EXPIRED: 'The caller did not answer in time',
  ERROR: 'BankID reported an error',
};

const loginForm = $('login');
const sentNin = $('sent-nin');
const timeLeft = $('time-left');

/** The calls to our own backend carry a header a cross-site form cannot send. */
const backend = (path, init = {}) =>
  fetch(path, { ...init, headers: { 'x-requested-with': 'safeconv', 'content-type': 'application/json', ...init.headers } });

/**
 * The agent's own credential for the relay: a short-lived JWT for the signed-in agent. The page
 * never holds the Signicat client secret or a Signicat access token; the relay does.
 */
async function tokenProvider() {
  const response = await backend('/api/agent-token', { method: 'POST' });
  if (!response.ok) throw new Error(`no agent token (HTTP ${response.status}): sign in again`);
  return response.json(); // { accessToken, expiresIn }
}

let client = null;

async function startPanel() {
  const me = await (await backend('/api/me')).json();
  if (!me.agent) {
    loginForm.hidden = false;
    $('agent').focus();
    return;
  }
  loginForm.hidden = true;
  form.hidden = false;
  $('agent-id').textContent = me.agent;
  // baseUrl is the relay; accountId is ignored there (the relay knows its account).
  client = new SafeconvClient({ baseUrl: me.baseUrl, accountId: me.accountId, pollIntervalMs: me.pollIntervalMs, tokenProvider });
  checkInput();
  ninInput.focus();
}

loginForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const response = await backend('/api/login', {
    method: 'POST',
    body: JSON.stringify({ agent: $('agent').value.trim(), password: $('password').value }),
  });
  if (!response.ok) {
    $('login-hint').textContent = 'Unknown agent or wrong password.';
    $('login-hint').className = 'hint bad';
    return;
  }
  $('password').value = '';
  await startPanel();
});

let countdown = null;
/** Shows the time left before the session expires, every second. */
function showTimeLeft(expiresAt) {
  clearInterval(countdown);
  const tick = () => {
    if (!expiresAt) {
      timeLeft.textContent = '–';
      return;
    }
    const seconds = Math.max(0, Math.round((expiresAt.getTime() - Date.now()) / 1000));
    timeLeft.textContent = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
  };
  tick();
  countdown = setInterval(tick, 1000);
}

let controller = null;

function setHint(text, tone) {
  hint.textContent = text;
  hint.className = `hint ${tone ?? ''}`;
}

function checkInput() {
  const value = ninInput.value.trim();
  if (value.length === 0) {
    setHint('Type the number the caller gives you.');
    verifyButton.disabled = true;
    return;
  }
  const check = checkNin(value);
  if (check.valid) {
    setHint(`Looks right: ${check.masked} (${check.kind === 'fnr' ? 'birth number' : check.kind})`, 'ok');
  } else if (check.reason === 'length' && value.length < 11 && /^\d*$/.test(value)) {
    setHint(`${11 - value.length} more digit${value.length === 10 ? '' : 's'}`);
  } else {
    setHint(check.message, 'bad');
  }
  verifyButton.disabled = !check.valid;
}

function showResult(title, tone, details) {
  progress.hidden = true;
  result.hidden = false;
  result.className = `result ${tone}`;
  resultTitle.textContent = title;
  resultDetails.replaceChildren();
  for (const [term, value, testId] of details) {
    if (value === undefined || value === null || value === '') continue;
    const dt = document.createElement('dt');
    dt.textContent = term;
    const dd = document.createElement('dd');
    dd.textContent = String(value);
    if (testId) dd.dataset.testid = testId;
    if (testId === 'verified-name') dd.className = 'big';
    resultDetails.append(dt, dd);
  }
}

function showOutcome(outcome) {
  switch (outcome.kind) {
    case 'success': {
      const { subject } = outcome;
      const nin = subject.nin?.value;
      showResult('Verified', 'success', [
        ['Name', subject.name ?? [subject.firstName, subject.lastName].filter(Boolean).join(' '), 'verified-name'],
        ['Born', subject.dateOfBirth],
        ['NIN', nin ? `${nin.slice(0, 6)}*****` : undefined],
      ]);
      break;
    }
    case 'declined':
      showResult('Not verified: the caller declined', 'failure', []);
      break;
    case 'cancelled':
      showResult('Cancelled', 'failure', [['Status', 'The request was withdrawn from the caller’s app']]);
      break;
    case 'expired':
      showResult('Not verified: no answer in time', 'failure', []);
      break;
    case 'failed':
      showResult('Not verified: BankID reported an error', 'failure', [
        ['Code', outcome.error?.code],
        ['Detail', outcome.error?.detail],
      ]);
      break;
  }
}

function showError(error) {
  if (error instanceof SafeconvError) {
    showResult('Something went wrong', 'failure', [
      ['Kind', error.kind, 'error-kind'],
      ['Message', error.message],
      ['HTTP', error.httpStatus],
      ['Trace id', error.traceId],
    ]);
  } else {
    showResult('Something went wrong', 'failure', [['Message', String(error)]]);
  }
}

async function verify(nin) {
  form.hidden = true;
  result.hidden = true;
  progress.hidden = false;
  binding.textContent = '…';
  statusText.textContent = 'Starting…';
  cancelButton.disabled = false;
  controller = new AbortController();
  const check = checkNin(nin);
  sentNin.textContent = check.masked ?? '–';
  timeLeft.textContent = '–';
  try {
    const session = await client.startSafeConversation({ nin });
    sessionId.textContent = session.id;
    showTimeLeft(session.expiresAt);
    binding.textContent = session.bindingMessage ?? '';
    statusText.textContent = STATUS_TEXT[session.status] ?? session.status;
    const outcome = await session.wait({
      signal: controller.signal,
      onStatus: (state) => {
        statusText.textContent = STATUS_TEXT[state.status] ?? state.status;
      },
    });
    showOutcome(outcome);
  } catch (error) {
    // Cancel aborts the wait (an AbortError); the session is then cancelled at Signicat.
    if (error instanceof SafeconvError && error.name === 'AbortError') showOutcome({ kind: 'cancelled' });
    else showError(error);
  } finally {
    controller = null;
    clearInterval(countdown);
  }
}

ninInput.addEventListener('input', checkInput);
form.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!verifyButton.disabled) verify(ninInput.value.trim());
});
cancelButton.addEventListener('click', () => {
  cancelButton.disabled = true;
  statusText.textContent = 'Cancelling…';
  controller?.abort();
});
$('again').addEventListener('click', () => {
  result.hidden = true;
  form.hidden = false;
  ninInput.value = '';
  sessionId.textContent = '–';
  checkInput();
  ninInput.focus();
});

await startPanel();
document.body.dataset.ready = 'true';
