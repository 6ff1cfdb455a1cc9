// Proof-of-work at the door. A join may have to bring a solved challenge
// (the server says so, and how hard, from the concert, the account's age and
// the sign-ups from this address). The work runs in a Web Worker
// (door-worker.js) as soon as the buyer opens a concert, so by the time
// they press Join it is usually done; during a scheduled sale's pre-queue it
// costs no place at all. Progress is said through the caller's aria-live
// region, a few times, never per attempt.

import { call } from './api.js';
import { store } from './store.js';

/** Per concert: the proof being made (a promise of the proof, or null). */
const proofs = new Map();

/**
 * Solves `answer.challenge` (a challenge endpoint's answer) in a worker;
 * `say` hears the progress. Resolves to {proof, ms, level}.
 */
export function solve(answer, say) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./door-worker.js', import.meta.url), { type: 'module' });
    let said = -1;
    say('Checking this device before you join… this takes a few seconds.');
    worker.onmessage = ({ data }) => {
      if (data.progress !== undefined) {
        // Each quarter once: enough for a screen reader to know it moves.
        const quarter = Math.floor(data.progress * 4);
        if (quarter > said && quarter > 0) {
          said = quarter;
          say(`Checking this device before you join: ${quarter * 25}% done.`);
        }
        return;
      }
      worker.terminate();
      if (data.error) return reject(new Error(data.error));
      say('This device is checked.');
      const payload = { challenge: answer.challenge, solution: data.solution };
      resolve({ proof: btoa(JSON.stringify(payload)), ms: data.ms, level: answer.level });
    };
    worker.onerror = (event) => {
      worker.terminate();
      reject(new Error(event.message || 'the check could not run'));
    };
    worker.postMessage({ challenge: answer.challenge, level: answer.level });
  });
}

/**
 * Starts (or joins) the work for `concert`: resolves to the proof to send
 * with the join ({proof, ms, level}), or null when the join needs none.
 * `say` hears the progress (the latest caller's).
 */
export function prepareJoin(concert, say = () => {}) {
  let entry = proofs.get(concert);
  if (entry) {
    entry.say = say;
    return entry.promise;
  }
  entry = { say };
  entry.promise = (async () => {
    const answer = await call(`/api/v1/concerts/${concert}/challenge`, { method: 'POST', auth: store.auth() });
    if (!answer.required) return null;
    return solve(answer, (text) => entry.say(text));
  })();
  // A failed or finished attempt is not kept: the next join asks again.
  entry.promise.catch(() => proofs.delete(concert));
  proofs.set(concert, entry);
  return entry.promise;
}

/** A proof is accepted once: forget it when it was sent. */
export function spent(concert) {
  proofs.delete(concert);
}

/** The codes that mean "solve a new challenge and send the join again". */
export const DOOR_CODES = new Set(['CHALLENGE_REQUIRED', 'CHALLENGE_INVALID', 'CHALLENGE_EXPIRED', 'CHALLENGE_REPLAYED']);
