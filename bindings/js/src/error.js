// The error class of the JavaScript API. Imported by src/convert.rs and re-exported from
// the generated module, so `err instanceof SafeconvError` works for every error the SDK throws.

/** Everything that can go wrong: `kind` says what, the other fields carry the details. */
export class SafeconvError extends Error {
  constructor(kind, message, details) {
    super(message);
    this.name = 'SafeconvError';
    this.kind = kind;
    if (details && typeof details === 'object') {
      for (const [key, value] of Object.entries(details)) {
        if (value !== null && value !== undefined) this[key] = value;
      }
    }
  }
}
