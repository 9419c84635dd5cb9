// safeconv for JavaScript: the Rust core compiled to WebAssembly, using the host's fetch and
// timers. This module loads the wasm once (top-level await) and re-exports the API; the types
// are in index.d.ts. Works in browsers (ES modules, bundled or not), Web Workers and Node 20+.
import init, {
  SafeconvClient,
  Session,
  SafeconvError,
  checkNin,
  setLogger,
  version as sdkVersion,
} from './pkg/safeconv.js';

const wasmUrl = new URL('./pkg/safeconv_bg.wasm', import.meta.url);

async function loadWasm() {
  // Node's fetch cannot read file: URLs; read the bytes instead. The specifier is a variable so
  // that bundlers leave this Node-only import alone.
  if (wasmUrl.protocol === 'file:') {
    const fs = 'node:fs/promises';
    const { readFile } = await import(/* @vite-ignore */ /* webpackIgnore: true */ fs);
    return readFile(wasmUrl);
  }
  return wasmUrl;
}

await init({ module_or_path: await loadWasm() });

// The generated glue throws plain `Error`s of its own before Rust runs (a call on an object
// after its `free()`, a call from inside one of its own callbacks): those become SafeconvErrors
// too, with the glue's error as `cause`; a method that returns a promise rejects instead.
const ASYNC = new Set(['startSafeConversation', 'getSession', 'wait', 'cancel']);

function misuse(error, label, self) {
  if (error instanceof SafeconvError) return error;
  const message = self?.__wbg_ptr
    ? `${label}: ${error?.message ?? error}`
    : `this ${label} was freed (free()) or is not a ${label}`;
  return new SafeconvError('invalid-input', message, { field: 'this', transient: false }, error);
}

for (const [Class, label] of [
  [SafeconvClient, 'SafeconvClient'],
  [Session, 'Session'],
]) {
  for (const [name, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(Class.prototype))) {
    if (name === 'constructor' || name === 'free') continue;
    for (const slot of ['value', 'get']) {
      const original = descriptor[slot];
      if (typeof original !== 'function') continue;
      descriptor[slot] = function (...args) {
        try {
          return original.apply(this, args);
        } catch (error) {
          if (ASYNC.has(name)) return Promise.reject(misuse(error, label, this));
          throw misuse(error, label, this);
        }
      };
    }
    Object.defineProperty(Class.prototype, name, descriptor);
  }
}

/** This package's version: the version of the safeconv core it was built from. */
export const version = sdkVersion();

export { SafeconvClient, Session, SafeconvError, checkNin, setLogger };
