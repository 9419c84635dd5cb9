// The error class of the JavaScript API. Imported by src/convert.rs and re-exported from the
// generated module, so `err instanceof SafeconvError` works for every error the SDK throws.

// A call given up through its AbortSignal is named as the DOM names it (fetch rejects with an
// `AbortError`, or a `TimeoutError` for `AbortSignal.timeout()`), so `error.name` checks
// written for fetch work here too.
const NAMES = { aborted: 'AbortError', timeout: 'TimeoutError' };

/** Everything that can go wrong: `kind` says what, the other fields carry the details. */
export class SafeconvError extends Error {
  constructor(kind, message, details, cause) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = NAMES[kind] ?? 'SafeconvError';
    this.kind = kind;
    if (details && typeof details === 'object') {
      for (const [key, value] of Object.entries(details)) {
        if (value !== null && value !== undefined) this[key] = value;
      }
    }
  }
}
