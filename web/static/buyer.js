// The buyer's app: one page whose hash names the screen (#/, #/sign-in, #/concerts/1,
// #/concerts/1/schedules/2, #/receipt/9, #/tickets), so Back works and a
// reload comes back to the same screen. Each screen is a module under
// screens/; this one routes. A screen gets an AbortSignal that ends its
// timers and live updates when another screen is shown. What the app keeps
// is in store.js; everything it knows comes from the public API.

import { clearNotice, fail, REROUTE, view } from './shell.js';
import { refreshBalance } from './points.js';
import { store } from './store.js';
import { keepPlaces } from './inline.js';
import { signUpScreen } from './screens/signup.js';
import { signInScreen } from './screens/signin.js';
import './account.js';
import { concertsScreen } from './screens/concerts.js';
import { roomScreen } from './screens/queue.js';
import { seatsScreen } from './screens/seats.js';
import { receiptScreen } from './screens/receipt.js';
import { ticketsScreen } from './screens/tickets.js';
import { ticketScreen } from './screens/ticket.js';

let screen = new AbortController();

function route() {
  screen.abort();
  screen = new AbortController();
  const { signal } = screen;
  // Only the seat screen of a venue with sections uses a desktop's width.
  view.classList.remove('full');
  document.getElementById('account').hidden = !store.auth();
  const path = location.hash.replace(/^#/, '') || '/';
  if (!store.auth()) {
    keepPlaces(signal);
    return path === '/sign-in' ? signInScreen() : signUpScreen();
  }
  refreshBalance().catch(fail);
  let match;
  // Places in line on other screens stay seen (see inline.js); the screen
  // of a concert follows its own.
  const concert = path.match(/^\/concerts\/(\d+)/);
  keepPlaces(signal, concert ? Number(concert[1]) : null);
  if ((match = path.match(/^\/concerts\/(\d+)\/schedules\/(\d+)$/))) {
    return seatsScreen(Number(match[1]), Number(match[2]), signal);
  }
  if ((match = path.match(/^\/concerts\/(\d+)$/))) return roomScreen(Number(match[1]), signal);
  if ((match = path.match(/^\/receipt\/(\d+)$/))) return receiptScreen(Number(match[1]));
  if ((match = path.match(/^\/tickets\/(\d+)$/))) return ticketScreen(Number(match[1]));
  if (path === '/tickets') return ticketsScreen(signal);
  return concertsScreen(signal);
}

window.addEventListener('hashchange', () => {
  clearNotice();
  route();
});
window.addEventListener(REROUTE, () => route());

route();
