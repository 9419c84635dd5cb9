// Compiled with `tsc --strict --noEmit` by scripts/test-wasm.sh: the declarations must let a
// page use the API without casts, and must refuse obvious mistakes.
import {
  SafeconvClient,
  SafeconvError,
  checkNin,
  setLogger,
  version,
  type LogRecord,
  type NinCheck,
  type Outcome,
  type SessionState,
  type SessionStatus,
  type Subject,
} from '@safeconv/web';

declare function show(text: string): void;

async function tokenFromMyBackend({ signal }: { signal: AbortSignal }): Promise<{ accessToken: string; expiresIn: number }> {
  const response = await fetch('/api/safeconv-token', { method: 'POST', signal });
  const body = (await response.json()) as { accessToken: string; expiresIn: number };
  return body;
}

export async function verifyCaller(nin: string, signal: AbortSignal): Promise<string> {
  const check: NinCheck = checkNin(nin);
  if (!check.valid) return `invalid: ${check.reason} (${check.message})`;
  show(check.masked);

  const client = new SafeconvClient({
    baseUrl: 'https://api.signicat.com',
    accountId: 'a-spge-4711',
    tokenProvider: tokenFromMyBackend,
  });
  try {
    const session = await client.startSafeConversation({ nin, attributes: ['name', 'nin'], language: 'nb', signal });
    show(session.bindingMessage ?? '');
    const expires: Date | undefined = session.expiresAt;
    show(String(expires?.getTime()));
    const outcome: Outcome = await session.wait({
      signal,
      onStatus: (state: SessionState) => {
        const status: SessionStatus = state.status;
        show(status);
      },
    });
    switch (outcome.kind) {
      case 'success': {
        const subject: Subject = outcome.subject;
        return `verified ${subject.name ?? '?'} born ${subject.dateOfBirth ?? '?'} (${subject.nin?.issuingCountry ?? ''})`;
      }
      case 'failed':
        return `failed: ${outcome.error?.code ?? outcome.status}`;
      case 'declined':
      case 'cancelled':
      case 'expired':
        return outcome.status;
    }
  } catch (error) {
    if (error instanceof SafeconvError && error.name === 'AbortError') return `aborted: ${String(error.cause)}`;
    if (error instanceof SafeconvError) {
      switch (error.kind) {
        case 'timeout':
          return 'gave up waiting';
        case 'api':
          return `Signicat said ${error.httpStatus ?? '?'} ${error.code ?? ''} (trace ${error.traceId ?? '-'})`;
        case 'invalid-input':
          return `bad option ${error.field ?? '?'}: ${error.reason ?? ''}`;
        default:
          return `${error.kind}${error.transient ? ' (try again)' : ''}: ${error.message}`;
      }
    }
    throw error;
  }
}

export async function resume(client: SafeconvClient, id: string): Promise<Outcome> {
  const session = await client.getSession(id, { signal: AbortSignal.timeout(5000) });
  const outcome = await session.cancel({ signal: AbortSignal.timeout(5000) });
  if (outcome.kind === 'success') show(outcome.subject.name ?? '');
  return outcome;
}

// Mistakes the types catch:
// @ts-expect-error a client secret is no option: tokens come from a provider
new SafeconvClient({ accountId: 'a', clientSecret: 's' });
// @ts-expect-error tokenProvider must return a token
new SafeconvClient({ accountId: 'a', tokenProvider: async () => 42 });
// @ts-expect-error nin is required
void new SafeconvClient({ accountId: 'a', tokenProvider: () => 't' }).startSafeConversation({ language: 'nb' });
declare const someOutcome: Outcome;
// @ts-expect-error only a success has a subject
void someOutcome.subject;
// @ts-expect-error the caller's no is 'declined': 'aborted' is what a signal does
void (someOutcome.kind === 'aborted');
// @ts-expect-error getSession's options take a signal, not a timeout
void new SafeconvClient({ accountId: 'a', tokenProvider: () => 't' }).getSession('id', { timeoutMs: 5 });

setLogger((record: LogRecord) => show(`${record.level} ${record.target}: ${record.message} ${record.fields['session_id'] ?? ''}`), { level: 'debug' });
setLogger(console, { level: 'warn' });
setLogger(null);
// @ts-expect-error not a level
setLogger(console, { level: 'loud' });
show(version);
