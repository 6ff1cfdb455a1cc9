// Solves a door challenge off the page's thread: ALTCHA v2, PBKDF2/SHA-256
// in counter mode, with WebCrypto. For counter 0, 1, 2, ... the password is
// the nonce's bytes and the counter as 4 big-endian bytes; the first
// derived key whose hex starts with keyPrefix is the answer. Reports
// progress as a share of the level's most attempts (the counter is secret,
// so the share is an upper estimate of the work left).

const bytes = (hex) => Uint8Array.from(hex.match(/../g) || [], (pair) => parseInt(pair, 16));
const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');

self.onmessage = async ({ data: { challenge, level } }) => {
  try {
    const p = challenge.parameters;
    const nonce = bytes(p.nonce);
    const salt = bytes(p.salt);
    const prefix = p.keyPrefix.toLowerCase();
    const most = 16 * 2 ** (level - 1);
    const password = new Uint8Array(nonce.length + 4);
    password.set(nonce);
    const counterAt = new DataView(password.buffer, nonce.length, 4);
    const started = performance.now();
    for (let counter = 0; counter <= 0xffffffff; counter += 1) {
      counterAt.setUint32(0, counter);
      const key = await crypto.subtle.importKey('raw', password, 'PBKDF2', false, ['deriveBits']);
      const derived = hex(await crypto.subtle.deriveBits(
        { name: 'PBKDF2', hash: 'SHA-256', salt, iterations: p.cost }, key, p.keyLength * 8));
      if (derived.startsWith(prefix)) {
        self.postMessage({ solution: { counter, derivedKey: derived }, ms: performance.now() - started });
        return;
      }
      self.postMessage({ progress: Math.min(0.99, (counter + 1) / most) });
    }
    self.postMessage({ error: 'no solution' });
  } catch (error) {
    self.postMessage({ error: String(error) });
  }
};
