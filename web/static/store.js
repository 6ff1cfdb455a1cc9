// Everything the buyer's app remembers, in one place. Kept in localStorage,
// so a reload or a second tab finds them: the account (name, user id,
// access token, and `signsIn` when it has a password) and, per concert, the place in line (its queue token, the
// position it started from, the server's last pace). Kept in memory: the
// balance, the concerts last listed, a charge being sent, and whether the
// "your turn" notification was shown.

const USER = 'frontrow.user';

function read(key) {
  try {
    return JSON.parse(localStorage.getItem(key) || 'null');
  } catch {
    return null;
  }
}

const placeKey = (concert) => `frontrow.queue.${read(USER)?.userId}.${concert}`;

export const store = {
  user: () => read(USER),
  setUser(user) {
    localStorage.setItem(USER, JSON.stringify(user));
  },
  forgetUser() {
    localStorage.removeItem(USER);
  },
  /** The access token, or undefined when signed out. */
  auth: () => read(USER)?.accessToken,

  /**
   * `{ token, firstPosition, pace }` for a concert, or null; `ended` (the
   * status) once a background look saw it end, so only its screen asks again.
   */
  place: (concert) => read(placeKey(concert)),
  setPlace(concert, place) {
    localStorage.setItem(placeKey(concert), JSON.stringify(place));
  },
  forgetPlace(concert) {
    localStorage.removeItem(placeKey(concert));
  },
  /** The concerts this account has a place for (live or not yet seen ended). */
  placesHeld() {
    const prefix = placeKey('');
    const concerts = [];
    for (let i = 0; i < localStorage.length; i += 1) {
      const key = localStorage.key(i);
      if (key.startsWith(prefix)) concerts.push(Number(key.slice(prefix.length)));
    }
    return concerts.filter((c) => Number.isFinite(c)).sort((a, b) => a - b);
  },

  /** Points, as the last answer said. */
  balance: 0,
  // Points the live holds that points covered keep for their payment.
  reserved: 0,
  /** concertId → the concert as `GET /concerts` last listed it. */
  concerts: new Map(),
  /** `{ amount, key }`: one Idempotency-Key per intended charge, so a retry applies once. */
  pendingCharge: null,
  /** The "your turn" notification is shown once per page load. */
  notified: false,
};
