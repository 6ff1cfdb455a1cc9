// Sign in: the name and password of an account made on any device; the
// access token is then kept in this browser until signing out.

import { call } from '../api.js';
import { h } from '../dom.js';
import { showError } from '../notice.js';
import { clearNotice, go, heading, setTitle, show } from '../shell.js';
import { store } from '../store.js';
import { credentialFields } from './signup.js';

export function signInScreen() {
  setTitle('Sign in');
  const { name, password } = credentialFields('current-password');
  const form = h('form', { class: 'card stack', onsubmit: async (event) => {
    event.preventDefault();
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      const typed = name.value.trim();
      const signedIn = await call('/api/v1/sessions', {
        method: 'POST', body: { name: typed, password: password.value },
      });
      store.setUser({ userId: signedIn.userId, accessToken: signedIn.accessToken, name: typed, signsIn: true });
      clearNotice();
      go('#/');
    } catch (error) {
      // A 401 here is a wrong name or password, not a lost session.
      showError(error);
      password.select();
      button.disabled = false;
    }
  } },
  h('label', { for: 'name' }, 'Your name'),
  name,
  h('label', { for: 'password' }, 'Password'),
  password,
  h('p', { class: 'muted small', id: 'password-hint' }, 'The name and password you signed up with.'),
  h('button', { class: 'primary', type: 'submit' }, 'Sign in'),
  h('p', { class: 'small' }, 'New here? ', h('a', { href: '#/' }, 'Create an account')));
  show(h('section', { class: 'hero' }, heading('Sign in'),
    h('p', {}, 'Your points and tickets, on this device too.')), form);
  name.focus();
}
