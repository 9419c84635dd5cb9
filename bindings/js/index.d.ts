// Types for the safeconv JavaScript API (hand-written; the implementation is the bindings/js
// crate in the safeconv repository, compiled to WebAssembly).

/** This package's version, the version of the safeconv core it was built from (e.g. `0.1.0`). */
export const version: string;

/** A session status as Signicat spells it. Unknown future values are passed through. */
export type SessionStatus =
  | 'CREATED'
  | 'WAITING_FOR_USER'
  | 'SUCCESS'
  | 'ERROR'
  | 'ABORT'
  | 'CANCELLED'
  | 'EXPIRED'
  | 'INVALID'
  | (string & {});

/**
 * An access token, or a promise of one: what `tokenProvider()` returns. Either the token itself
 * or `{ accessToken, expiresIn }` with the lifetime in seconds (so the SDK renews it in time).
 */
export type TokenProviderResult = string | { readonly accessToken: string; readonly expiresIn?: number };

/** What `tokenProvider` is called with. */
export interface TokenProviderContext {
  /**
   * Aborted when the SDK gives the fetch up (the call that needed the token was aborted): pass it
   * on to your `fetch`.
   */
  readonly signal: AbortSignal;
}

export interface ClientOptions {
  /**
   * The Authentication API's base URL: Signicat (`https://api.signicat.com`, the default) or
   * your own backend that forwards `/auth/rest/...` to Signicat. HTTPS only, except loopback.
   */
  readonly baseUrl?: string;
  /** Your Signicat account id (`signicat-accountId`). */
  readonly accountId: string;
  /**
   * Returns an access token for Signicat's API, typically by calling your own backend, which
   * holds the client secret. A browser must never hold the secret. Called only when no cached
   * token is fresh, one call at a time; if it throws, the call fails with kind `authentication`
   * (code `token_provider_failed`, what it threw as `cause`).
   */
  readonly tokenProvider: (context: TokenProviderContext) => Promise<TokenProviderResult> | TokenProviderResult;
  /** Pause between two status polls in ms (default 2000; at least 1000 against a remote host). */
  readonly pollIntervalMs?: number;
  /** Time one HTTP request may take in ms (default 10000). */
  readonly requestTimeoutMs?: number;
  /** Accept synthetic test numbers (Tenor, month + 80), as sandboxes use (default false). */
  readonly allowSyntheticNin?: boolean;
}

/** The attributes Norwegian BankID can return. Any other attribute name is passed as is. */
export type Attribute =
  | 'name'
  | 'firstName'
  | 'middleName'
  | 'lastName'
  | 'dateOfBirth'
  | 'nin'
  | 'email'
  | (string & {});

export interface StartOptions {
  /** The caller's national identity number (11 digits; surrounding whitespace is ignored). */
  readonly nin: string;
  /** Attributes to request (default: name, firstName, lastName, nin, dateOfBirth). */
  readonly attributes?: readonly Attribute[];
  /** Send a number whose check digits are wrong (it must still be 11 digits and a real date). */
  readonly allowInvalidNin?: boolean;
  /** Language of the texts the caller sees, ISO 639-1 (e.g. `nb`, `en`). */
  readonly language?: string;
  /** Your own reference (e.g. the call id), echoed back by Signicat. */
  readonly externalReference?: string;
  /** Tags for webhook filtering (at most 100, each at most 100 characters). */
  readonly tags?: readonly string[];
  /** Level of assurance to require. */
  readonly requestedLoa?: 'low' | 'substantial' | 'high';
  /** Session lifetime in seconds (Signicat raises values under 300 to 300). */
  readonly sessionLifetime?: number;
  /**
   * Aborting it stops the start: the promise rejects with an `AbortError` (a `TimeoutError` for
   * `AbortSignal.timeout()`), nothing is sent if the create had not gone out yet, and a session
   * it created is cancelled at Signicat, so no request is left on the caller's phone.
   */
  readonly signal?: AbortSignal;
}

/** The options of `getSession()` and `cancel()`. */
export interface CallOptions {
  /** Aborting it rejects the call with an `AbortError` (a `TimeoutError` for `AbortSignal.timeout()`). */
  readonly signal?: AbortSignal;
}

/** The national identity number of a verified person. Do not log `value`. */
export interface SubjectNin {
  readonly value: string;
  /** E.g. `NO`. */
  readonly issuingCountry?: string;
  /** E.g. `BIRTH`. */
  readonly type?: string;
}

/** The verified person: the requested attributes that the identity provider returned. */
export interface Subject {
  readonly id?: string;
  /** The identity provider's id for the person (BankID's PID). */
  readonly idpId?: string;
  readonly name?: string;
  readonly firstName?: string;
  readonly middleName?: string;
  readonly lastName?: string;
  /** `YYYY-MM-DD`. */
  readonly dateOfBirth?: string;
  readonly nin?: SubjectNin;
  readonly email?: string;
  /** Any other attribute, as sent. */
  readonly [attribute: string]: unknown;
}

/** Why a session ended in `ERROR` (read `code`, e.g. `no_bankid_app`). */
export interface SessionFailure {
  readonly code?: string;
  readonly type?: string;
  readonly title?: string;
  readonly detail?: string;
}

/**
 * How a session ended. Switch on `kind`. A wait stopped by its `signal` or `timeoutMs` rejects
 * (an `AbortError` or `TimeoutError`) instead: none of these is an abort.
 */
export type Outcome =
  | { readonly kind: 'success'; readonly status: 'SUCCESS'; readonly subject: Subject }
  /** The caller said no in the BankID app (Signicat's status `ABORT`, also spelt `ABORTED`). */
  | { readonly kind: 'declined'; readonly status: 'ABORT' }
  /** Cancelled with `session.cancel()`, or by another client. */
  | { readonly kind: 'cancelled'; readonly status: 'CANCELLED' }
  /** The caller did not answer in time. */
  | { readonly kind: 'expired'; readonly status: 'EXPIRED' }
  | { readonly kind: 'failed'; readonly status: 'ERROR' | 'INVALID'; readonly error?: SessionFailure };

export type OutcomeKind = Outcome['kind'];

/** Everything last seen of a session (Signicat's fields, plus `bindingMessage`). */
export interface SessionState {
  readonly id: string;
  readonly status: SessionStatus;
  readonly statusDetail?: string;
  /** The words the agent reads to the caller (kept after the session ended). */
  readonly bindingMessage?: string;
  readonly expiresAt?: Date;
  readonly accountId?: string;
  /** The identity provider, e.g. `nbid`. */
  readonly provider?: string;
  /** The verified person (on `SUCCESS`). */
  readonly subject?: Subject;
  /** Why it failed (on `ERROR`). */
  readonly error?: SessionFailure;
  /** Level of assurance reached, e.g. `substantial`. */
  readonly loa?: string;
  /** Session lifetime in seconds, as Signicat applied it. */
  readonly sessionLifetime?: number;
  readonly flow?: string;
  readonly allowedProviders?: readonly string[];
  readonly requestedAttributes?: readonly string[];
  readonly externalReference?: string;
  readonly tags?: readonly string[];
  /** Provider data; for Safe Conversation it holds `bindingMessage`. */
  readonly idpData?: Readonly<Record<string, unknown>>;
}

export interface WaitOptions {
  /** Called with the new state each time the status changes, the final one included. */
  readonly onStatus?: (state: SessionState) => void;
  /**
   * Aborting it cancels the session at Signicat and rejects with an `AbortError` (a
   * `TimeoutError` for `AbortSignal.timeout()`), `cause` the signal's reason. If the session had
   * ended otherwise before the cancel reached Signicat (the caller confirmed or declined first),
   * `wait()` resolves to that outcome instead.
   */
  readonly signal?: AbortSignal;
  /**
   * Give up after this many ms, as `signal: AbortSignal.timeout(timeoutMs)` would: the session
   * is cancelled and `wait()` rejects with a `TimeoutError`. Default: the session's `expiresAt`.
   */
  readonly timeoutMs?: number;
}

/** A Safe Conversation in progress. */
export class Session {
  private constructor();
  /** The session id (quote it to support; `client.getSession(id)` picks the session up again). */
  readonly id: string;
  /**
   * The words the agent reads aloud; the caller confirms the same words in the BankID app. Stays
   * readable for the session's lifetime, also after it ended.
   */
  readonly bindingMessage: string | undefined;
  /** When the session expires. */
  readonly expiresAt: Date | undefined;
  /** The last status seen. */
  readonly status: SessionStatus;
  /** Everything last seen of the session. */
  readonly state: SessionState;
  /**
   * Polls until the session ends and resolves to the outcome. Transient failures are retried;
   * rejects (with a `SafeconvError`) when aborted or timed out, or when the outcome could not be
   * learned.
   */
  wait(options?: WaitOptions): Promise<Outcome>;
  /**
   * Cancels the session at Signicat and resolves to how it ended: `cancelled`, or `success` if
   * the caller confirmed first. Every `wait()` on the session resolves to the same outcome.
   */
  cancel(options?: CallOptions): Promise<Outcome>;
  toJSON(): SessionState;
  /** Frees the wasm memory now instead of at garbage collection; a later call fails. */
  free(): void;
}

/** A client of Signicat's Authentication API for Norwegian BankID Safe Conversation. */
export class SafeconvClient {
  /** @throws {SafeconvError} kind `invalid-input` when an option is missing or wrong. */
  constructor(options: ClientOptions);
  /**
   * Starts a Safe Conversation: BankID pushes a request to the caller's phone, and the session
   * carries the binding message for the agent to read aloud. A string is short for `{ nin }`.
   */
  startSafeConversation(options: StartOptions | string): Promise<Session>;
  /** Reads a session by id, e.g. to wait for it again after a page reload. */
  getSession(id: string, options?: CallOptions): Promise<Session>;
  /** Frees the wasm memory now instead of at garbage collection; a later call fails. */
  free(): void;
}

/** What kind of national identity number: birth number, D-, H-, FH-number or synthetic. */
export type NinKind = 'fnr' | 'dnr' | 'hnr' | 'fh' | 'synthetic';

/** Why a number was refused. */
export type NinErrorCode = 'length' | 'non-digit' | 'date' | 'check-digits' | 'synthetic';

export type NinCheck =
  | {
      readonly valid: true;
      readonly kind: NinKind;
      /** The date digits and stars, e.g. `010180*****`: safe to show and log. */
      readonly masked: string;
      /** False only when accepted with `allowInvalidCheckDigits`. */
      readonly checkDigitsValid: boolean;
    }
  | { readonly valid: false; readonly reason: NinErrorCode; readonly message: string };

export interface NinRules {
  readonly allowSynthetic?: boolean;
  readonly allowInvalidCheckDigits?: boolean;
}

/** Validates a national identity number locally (nothing is sent), e.g. as the agent types. */
export function checkNin(nin: string, rules?: NinRules): NinCheck;

export type SafeconvErrorKind =
  /** An option was refused before anything was sent (`field`, `reason`). */
  | 'invalid-input'
  /** The national identity number was refused before anything was sent (`reason`). */
  | 'invalid-nin'
  /** No access token: `tokenProvider()` failed, or the token endpoint refused (`code`, `detail`). */
  | 'authentication'
  /** Signicat answered with an error (`httpStatus`, `code`, `title`, `detail`, `traceId`). */
  | 'api'
  /** No answer: timeout, refused or dropped connection, CORS (`reason`). */
  | 'transport'
  /** An answer the SDK cannot read. */
  | 'protocol'
  /** The call was aborted through its `signal` (`name` is `AbortError`; `cause` the reason). */
  | 'aborted'
  /** The call's `signal` timed out, or `timeoutMs` passed (`name` is `TimeoutError`). */
  | 'timeout'
  /** The operation was stopped before it had a result. */
  | 'cancelled';

/** Every error the SDK throws or rejects with. Messages never contain a NIN, secret or token. */
export class SafeconvError extends Error {
  private constructor();
  /** `AbortError` (kind `aborted`) and `TimeoutError` (kind `timeout`) as the DOM names them. */
  readonly name: 'SafeconvError' | 'AbortError' | 'TimeoutError';
  readonly kind: SafeconvErrorKind;
  /**
   * What caused it, where there is something: the signal's reason (`aborted`, `timeout`), what
   * `tokenProvider` threw (`authentication`), the glue's error (a call after `free()`).
   */
  cause?: unknown;
  /** `invalid-input`: the option, e.g. `accountId`; `invalid-nin`: `nin`. */
  readonly field?: string;
  /**
   * `invalid-input`: why the option was refused; `invalid-nin`: a `NinErrorCode`;
   * `transport`: `timeout`, `connect` or `connection`.
   */
  readonly reason?: string;
  /** The HTTP status, when the server answered. */
  readonly httpStatus?: number;
  /** Signicat's error code (`api`) or the OAuth error, e.g. `invalid_client` (`authentication`). */
  readonly code?: string;
  readonly title?: string;
  readonly detail?: string;
  /** Signicat's trace id: quote it to Signicat support. */
  readonly traceId?: string;
  /** Fields Signicat refused. */
  readonly invalidParams?: readonly { readonly name: string; readonly reason: string }[];
  /** How long the server asked to wait before trying again, in ms. */
  readonly retryAfterMs?: number;
  /** Whether trying again later may succeed. */
  readonly transient: boolean;
}

/** How important a log record is. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** One log record of the SDK (NINs masked). */
export interface LogRecord {
  readonly level: LogLevel;
  /** Where it comes from, e.g. `safeconv::wait`. */
  readonly target: string;
  /** What happened, e.g. `session created`. */
  readonly message: string;
  /** Structured fields, e.g. `{ session_id: '…' }`. */
  readonly fields: Readonly<Record<string, string>>;
}

/** Anything with console's methods: `console` itself, or a logger such as pino's. */
export interface ConsoleLike {
  error?(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  info?(...data: unknown[]): void;
  debug?(...data: unknown[]): void;
}

/**
 * Sends the SDK's log records (token fetches, retries, cancels, status changes; NINs masked) from
 * `level` up (default `info`) to `logger`: a function called with each `LogRecord`, or a
 * console-like object whose method for the level gets `"target: message"` and the fields. One
 * logger for the whole module; `null` stops logging.
 */
export function setLogger(
  logger: ((record: LogRecord) => void) | ConsoleLike | null,
  options?: { readonly level?: LogLevel },
): void;
