/**
 * Timer math for the browser: parsing the server's times, clock-offset correction, seconds left
 * and countdown text. The deadlines themselves come from the server (its `derive.deadlines`,
 * tested against `tests/cases/deadlines.json`). Pure functions: a 1 s tick only calls these,
 * never the network.
 */

/** An ISO-8601 time with no offset: the service's naive times are UTC (as the server reads them). */
const NAIVE = /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

/**
 * Milliseconds since the epoch of a server or service timestamp, or null. The one place the
 * browser parses times: `Date.parse` would read a time without an offset as local time, while
 * the service means UTC.
 */
export function parseTime(value: string | null | undefined): number | null {
  if (!value) {
    return null;
  }
  const ms = Date.parse(NAIVE.test(value) ? `${value}Z` : value);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * Milliseconds by which this browser's clock is ahead of the server's, from a response's
 * `server_time` and the local times its request was sent and its answer received: the server
 * wrote its time somewhere in between, taken as the midpoint.
 */
export function clockOffset(
  serverTime: string,
  sentAt: number,
  receivedAt: number = sentAt
): number {
  const server = parseTime(serverTime);
  return server === null ? 0 : (sentAt + receivedAt) / 2 - server;
}

/**
 * A reader of the service's own timestamps in `view` (its `details`, its jobs' times) that puts
 * them on the server's clock: the service's clock may differ from the server's by
 * `service_clock_offset_seconds` (the deadlines the server serves are already on its clock).
 */
export function serviceClock(view: {
  service_clock_offset_seconds?: number | null;
}): (value: string | null | undefined) => number | null {
  const shift = (view.service_clock_offset_seconds ?? 0) * 1000;
  return value => {
    const at = parseTime(value);
    return at === null ? null : at - shift;
  };
}

/** Whole seconds left until `deadline` at local time `now`, on the server's clock; never < 0. */
export function secondsLeft(
  deadline: string | null,
  now: number,
  offset: number
): number | null {
  const at = parseTime(deadline);
  if (at === null) {
    return null;
  }
  return Math.max(0, Math.ceil((at - (now - offset)) / 1000));
}

/** "0:42", "27:10", "1:02:03": minutes and seconds, hours only when needed. */
export function formatCountdown(seconds: number): string {
  const whole = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = String(whole % 60).padStart(2, '0');
  return hours > 0
    ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}`
    : `${minutes}:${rest}`;
}
