// Every problem `code` the API answers with, as a sentence for people. The
// API's `detail` is written for developers; a code not listed here (a newer
// server) falls back to a general sentence, never to raw JSON.

const SENTENCES = {
  NETWORK: 'frontrow cannot be reached. Check your connection and try again.',
  STORE_UNAVAILABLE: 'We are very busy right now. Please try again in a moment.',
  INTERNAL: 'Something went wrong on our side. Please try again.',
  UNAUTHORIZED: 'Your session has ended. Please sign in again.',
  FORBIDDEN: 'You are not allowed to do that.',
  NOT_FOUND: 'That page or item does not exist.',
  INVALID_REQUEST: 'Something in that request was not accepted. Please check it and try again.',
  PAYLOAD_TOO_LARGE: 'That request is too large.',
  METHOD_NOT_ALLOWED: 'That action is not available here.',
  UNSUPPORTED_MEDIA_TYPE: 'That request was sent in a form frontrow does not accept.',

  INVALID_NAME: 'Please enter a name of 1 to 100 characters.',
  INVALID_PASSWORD: 'Please choose a password of 8 to 128 characters.',
  NAME_TAKEN: 'That name already has an account. Sign in with it, or choose another name.',
  INVALID_CREDENTIALS: 'That name and password do not match an account.',
  TOO_MANY_ATTEMPTS: 'Too many wrong passwords for this name. Please wait a little and try again.',
  RATE_LIMITED: 'Too many requests from your connection. Please wait a little and try again.',
  INVALID_AMOUNT: 'You can add 1 to 1,000,000 points at a time.',
  BALANCE_LIMIT: 'That would take your balance over the limit of 1,000,000,000 points.',
  INSUFFICIENT_POINTS: 'You do not have enough points for these seats.',
  POINTS_NEEDED: 'Add points to hold this: without them you get one short hold of one seat per concert.',
  INVALID_IDEMPOTENCY_KEY: 'That charge could not be sent safely. Please try again.',
  IDEMPOTENCY_KEY_REUSED: 'That charge was already sent with a different amount. Please try again.',

  INVALID_CONCERT: 'Check the concert: it needs a title and at least one performance with 1 to 10,000 seats and a price of 0 to 1,000,000 points.',
  CONCERT_NOT_FOUND: 'That concert does not exist.',
  SCHEDULE_NOT_FOUND: 'That performance does not exist.',

  QUEUE_TOKEN_MISSING: 'Your place in line was not found. Please join the line again.',
  QUEUE_TOKEN_INVALID: 'Your place in line was not found. Please join the line again.',
  QUEUE_TOKEN_NOT_YOURS: 'That place in line belongs to someone else.',
  QUEUE_TOKEN_WRONG_CONCERT: 'Your place in line is for another concert.',
  QUEUE_NOT_ACTIVE: 'It is not your turn yet. Please wait in line.',
  QUEUE_TOKEN_EXPIRED: 'Your turn has ended. Join the line again to continue.',
  QUEUE_TURN_OVER: 'Your turn has ended: pay for or release the seats you hold.',
  SOLD_OUT: 'Every seat for this concert is sold.',
  SALE_NOT_OPEN: 'The sale has not opened yet.',
  CHALLENGE_REQUIRED: 'This device needs a quick check before you join. Please try again.',
  CHALLENGE_INVALID: 'The check of this device did not work. Please try again.',
  CHALLENGE_EXPIRED: 'The check of this device took too long. Please try again.',
  CHALLENGE_REPLAYED: 'That check was already used. Please try again.',
  INVALID_QUEUE_POLICY: 'Capacity must be 1 to 1,000,000 and the rate 1 to 100,000 per second.',

  SEAT_OUT_OF_RANGE: 'That seat does not exist.',
  SEAT_UNAVAILABLE: 'Sorry, someone else just took that seat. Please pick another one.',
  SEAT_LIMIT_REACHED: 'You already hold or own the most seats allowed for this performance.',
  HOUSEHOLD_LIMIT: 'Accounts made together from one network share a seat limit for each performance, and they hold or own that many already. Unless you hold seats, your turn has ended.',
  NO_ADJACENT_SEATS: 'There are not that many seats together there any more. Try fewer seats or another area.',
  SECTION_NOT_FOUND: 'That section does not exist.',
  INVALID_QUANTITY: 'Choose between 1 seat and your seat limit.',
  RESERVATION_NOT_FOUND: 'That reservation was not found.',
  HOLD_EXPIRED: 'Your hold has expired and the seat was released.',
  ALREADY_CONFIRMED: 'This seat is already paid for.',
  RESERVATION_CANCELLED: 'This hold was cancelled.',
  INVALID_CART: 'Those seats cannot be paid together: pick up to your seat limit, each once, for one concert.',
  INVALID_PAGE: 'That page of tickets could not be shown.',

  ADMIN_KEY: 'That admin key was not accepted.',
};

/** A sentence for a problem code (`detail` is only a developer's hint). */
export function sentence(code) {
  if (SENTENCES[code]) return SENTENCES[code];
  if (/^HTTP_5/.test(code)) return SENTENCES.INTERNAL;
  return 'Something went wrong. Please try again.';
}
