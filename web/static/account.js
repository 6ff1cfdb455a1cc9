// Signing out from the bar: the server ends the session (its token is
// refused from then on, on every device that has it), and this browser
// forgets the account. Places in line stay keyed by the user, so signing
// back in finds them.

import { call } from './api.js';
import { goAndTell } from './shell.js';
import { store } from './store.js';

// An account made before passwords (this browser kept only its token) has
// no way back in once signed out: the buyer is asked first.
const NO_WAY_BACK = 'This account has no password, so once signed out you cannot sign in to it again, '
  + 'and its points and tickets stay with it. Sign out anyway?';

document.getElementById('sign-out').addEventListener('click', async () => {
  if (!store.user()?.signsIn && !window.confirm(NO_WAY_BACK)) return;
  const token = store.auth();
  try {
    await call('/api/v1/sessions/current', { method: 'DELETE', auth: token });
  } catch {
    // Already ended, or the server cannot be reached: this browser forgets
    // the token either way, and an unreachable server's token expires.
  }
  store.forgetUser();
  goAndTell('#/sign-in', 'You are signed out. Sign in again with your name and password.', 'neutral');
});
