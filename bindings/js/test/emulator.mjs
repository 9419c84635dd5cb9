// Helpers for the tests: the emulator's admin API, and a token provider that plays the
// integrator's backend (in a real page, the backend holds the secret; here the test does).
export const EMULATOR_URL = (process.env.SAFECONV_EMULATOR_URL ?? '').replace(/\/$/, '');
if (!EMULATOR_URL) throw new Error('set SAFECONV_EMULATOR_URL (scripts/test-wasm.sh does)');

export const ACCOUNT_ID = 'a-spge-emulator';

export async function admin(method, path, body) {
  const response = await fetch(EMULATOR_URL + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`admin ${method} ${path}: HTTP ${response.status}`);
  return response.json();
}

export const behave = (nin, behaviour) => admin('PUT', `/emulator/users/${nin}`, behaviour);

/** Fetches a token from the emulator's token endpoint, as an integrator's backend would. */
export async function backendToken() {
  const response = await fetch(EMULATOR_URL + '/auth/open/connect/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      scope: 'signicat-api',
      client_id: 'safeconv-demo-client',
      client_secret: 'safeconv-demo-secret',
    }),
  });
  if (!response.ok) throw new Error(`token endpoint: HTTP ${response.status}`);
  const body = await response.json();
  return { accessToken: body.access_token, expiresIn: body.expires_in };
}
