// Types for the safeconv JavaScript API (hand-written; the implementation is src/wasm in the
// safeconv repository, compiled to WebAssembly).

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
   * token is fresh, one call at a time; if it throws, the call fails with kind `authentication`.
   */
  readonly tokenProvider: () => Promise<TokenProviderResult> | TokenProviderResult;
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

/** How a session ended. Switch on `kind`. */
export type Outcome =
  | { readonly kind: 'success'; readonly status: 'SUCCESS'; readonly subject: Subject }
  /** The caller declined in the BankID app. */
  | { readonly kind: 'aborted'; readonly status: 'ABORT' }
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
  /** The words the agent reads to the caller. */
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
   * Aborting it cancels the session at Signicat; `wait()` then resolves to what really happened
   * (`cancelled`, or `success` if the caller confirmed first) instead of rejecting.
   */
  readonly signal?: AbortSignal;
  /** Give up (and cancel the session) after this many ms; default: the session's `expiresAt`. */
  readonly timeoutMs?: number;
}

/** A Safe Conversation in progress. */
export class Session {
  private constructor();
  /** The session id (quote it to support; `client.getSession(id)` picks the session up again). */
  readonly id: string;
  /** The words the agent reads aloud; the caller confirms the same words in the BankID app. */
  readonly bindingMessage: string | undefined;
  /** When the session expires. */
  readonly expiresAt: Date | undefined;
  /** The last status seen. */
  readonly status: SessionStatus;
  /** Everything last seen of the session. */
  readonly state: SessionState;
  /**
   * Polls until the session ends and resolves to the outcome. Transient failures are retried;
   * rejects (with a `SafeconvError`) only when the outcome could not be learned.
   */
  wait(options?: WaitOptions): Promise<Outcome>;
  /**
   * Cancels the session at Signicat and resolves to how it ended: `cancelled`, or `success` if
   * the caller confirmed first. A `wait()` in progress resolves to the same outcome.
   */
  cancel(): Promise<Outcome>;
  toJSON(): SessionState;
  /** Frees the wasm memory now instead of at garbage collection. */
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
  getSession(id: string): Promise<Session>;
  /** Frees the wasm memory now instead of at garbage collection. */
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
  | 'protocol';

/** Every error the SDK throws or rejects with. Messages never contain a NIN, secret or token. */
export class SafeconvError extends Error {
  private constructor();
  readonly name: 'SafeconvError';
  readonly kind: SafeconvErrorKind;
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
