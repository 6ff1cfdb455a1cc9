// Sign up: a name and a password, so the account (its points and tickets)
// can be signed in to from any browser; the access token is kept in this one.

import { ApiError, call } from '../api.js';
import { solve } from '../door.js';
import { h } from '../dom.js';
import { clearNotice, fail, go, heading, setTitle, show } from '../shell.js';
import { store } from '../store.js';

/** The name and password fields both account screens ask for. */
export function credentialFields(passwordAutocomplete) {
  const name = h('input', {
    id: 'name', name: 'name', autocomplete: 'username', required: true, maxlength: 100,
    autocapitalize: 'none', spellcheck: 'false',
  });
  const password = h('input', {
    id: 'password', name: 'password', type: 'password', autocomplete: passwordAutocomplete,
    required: true, minlength: 8, maxlength: 128, 'aria-describedby': 'password-hint',
  });
  return { name, password };
}

export function signUpScreen() {
  setTitle('Sign up');
  const { name, password } = credentialFields('new-password');
  const progress = h('p', { class: 'small', 'aria-live': 'polite' });
  const form = h('form', { class: 'card stack', onsubmit: async (event) => {
    event.preventDefault();
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      const typed = name.value.trim();
      const body = { name: typed, password: password.value };
      let created;
      try {
        created = await call('/api/v1/users', { method: 'POST', body });
      } catch (error) {
        // Many accounts were made from this address lately: this one pays
        // a quick check of the device first, bound to the name.
        if (!(error instanceof ApiError) || error.code !== 'CHALLENGE_REQUIRED') throw error;
        const asked = await call('/api/v1/users/challenge', { method: 'POST', body: { name: typed } });
        const paid = await solve(asked, (text) => { progress.textContent = text; });
        created = await call('/api/v1/users', { method: 'POST', body: { ...body, proofOfWork: paid.proof } });
      }
      store.setUser({ userId: created.userId, accessToken: created.accessToken, name: typed, signsIn: true });
      clearNotice();
      go(location.hash === '#/sign-in' ? '#/' : location.hash);
    } catch (error) {
      fail(error);
      button.disabled = false;
    }
  } },
  h('label', { for: 'name' }, 'Your name'),
  name,
  h('label', { for: 'password' }, 'Choose a password'),
  password,
  h('p', { class: 'muted small', id: 'password-hint' },
    'At least 8 characters. With your name and password you can sign in on any device and find your tickets there.'),
  h('button', { class: 'primary', type: 'submit' }, 'Create account'),
  progress,
  h('p', { class: 'small' }, 'Already have an account? ', h('a', { href: '#/sign-in' }, 'Sign in')));
  show(
    h('section', { class: 'hero' },
      heading('Tickets for the minute a show opens'),
      h('p', {}, 'A fair place in line, real seats, and a few minutes to pay.')),
    form,
  );
  name.focus();
}
