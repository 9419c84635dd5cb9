// safeconv for JavaScript: the Rust core compiled to WebAssembly, using the host's fetch and
// timers. This module loads the wasm once (top-level await) and re-exports the API; the types
// are in index.d.ts. Works in browsers (ES modules), Web Workers and Node 20+.
import init, { SafeconvClient, Session, SafeconvError, checkNin } from './pkg/safeconv.js';

const wasmUrl = new URL('./pkg/safeconv_bg.wasm', import.meta.url);

async function loadWasm() {
  // Node's fetch cannot read file: URLs; read the bytes instead.
  if (wasmUrl.protocol === 'file:') {
    const { readFile } = await import('node:fs/promises');
    return readFile(wasmUrl);
  }
  return wasmUrl;
}

await init({ module_or_path: await loadWasm() });

export { SafeconvClient, Session, SafeconvError, checkNin };
