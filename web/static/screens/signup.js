// Sign up: a name, and the access token kept in this browser.

import { call } from '../api.js';
import { h } from '../dom.js';
import { clearNotice, fail, go, heading, setTitle, show } from '../shell.js';
import { store } from '../store.js';

export function signUpScreen() {
  setTitle('Sign up');
  const input = h('input', {
    id: 'name', name: 'name', autocomplete: 'nickname', required: true, maxlength: 100,
  });
  const form = h('form', { class: 'card stack', onsubmit: async (event) => {
    event.preventDefault();
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      const name = input.value.trim();
      const created = await call('/api/v1/users', { method: 'POST', body: { name } });
      store.setUser({ userId: created.userId, accessToken: created.accessToken, name });
      clearNotice();
      go(location.hash);
    } catch (error) {
      fail(error);
      button.disabled = false;
    }
  } },
  h('label', { for: 'name' }, 'Your name'),
  input,
  h('p', { class: 'muted small' }, 'No password: this browser keeps your ticket wallet.'),
  h('button', { class: 'primary', type: 'submit' }, 'Start'));
  show(
    h('section', { class: 'hero' },
      heading('Tickets for the minute a show opens'),
      h('p', {}, 'A fair place in line, real seats, and a few minutes to pay.')),
    form,
  );
  input.focus();
}
