// Points: the balance in the bar (with what covered holds reserve of it),
// and adding points from its dialog or from a hold that is short. A charge carries an Idempotency-Key, kept until it
// is answered, so a retry of the same amount is applied once.

import { ApiError, call, idempotencyKey } from './api.js';
import { number } from './dom.js';
import { say, showNotice } from './shell.js';
import { store } from './store.js';

const balanceText = document.getElementById('balance');
const reservedNote = document.getElementById('reserved-note');
const reservedText = document.getElementById('reserved');
const dialog = document.getElementById('charge-dialog');
const form = document.getElementById('charge-form');
const amountInput = document.getElementById('charge-amount');
const error = document.getElementById('charge-error');

/** Shows the balance; `reserved` (when known) is what covered holds keep. */
export function setBalance(points, reserved = store.reserved) {
  store.balance = points;
  store.reserved = reserved;
  balanceText.textContent = number(points);
  reservedText.textContent = number(reserved);
  reservedNote.hidden = !(reserved > 0);
}

/** Points free for a new hold or an uncovered one's payment. */
export function available() {
  return Math.max(0, store.balance - store.reserved);
}

/** Reads the balance and what is reserved; resolves to the balance (0 when signed out). */
export async function refreshBalance() {
  if (!store.auth()) return 0;
  const { balance, reserved } = await call('/api/v1/points', { auth: store.auth() });
  setBalance(balance, reserved);
  return balance;
}

/** Charges `amount` points; resolves to the new balance. */
export async function charge(amount) {
  if (!store.pendingCharge || store.pendingCharge.amount !== amount) {
    store.pendingCharge = { amount, key: idempotencyKey() };
  }
  const result = await call('/api/v1/points/charge', {
    method: 'POST',
    auth: store.auth(),
    body: { amount },
    headers: { 'idempotency-key': store.pendingCharge.key },
  });
  store.pendingCharge = null;
  setBalance(result.balance);
  return result.balance;
}

function openCharge() {
  error.hidden = true;
  dialog.showModal();
  amountInput.focus();
  amountInput.select();
}

document.getElementById('balance-button').addEventListener('click', () => openCharge());
document.getElementById('charge-cancel').addEventListener('click', () => dialog.close());
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const amount = Number(amountInput.value);
  const submit = document.getElementById('charge-submit');
  submit.disabled = true;
  try {
    const now = await charge(amount);
    dialog.close();
    showNotice(`Added ${number(amount)} points. Your balance is ${number(now)} points.`, 'ok');
    say(`Balance ${number(now)} points`);
    // A screen that shows the balance (the hold panel) draws itself again.
    document.dispatchEvent(new CustomEvent('balance'));
  } catch (failure) {
    error.textContent = failure instanceof ApiError ? failure.message : 'Something went wrong.';
    error.hidden = false;
  } finally {
    submit.disabled = false;
  }
});
