/**
 * Timer math for the browser: the same deadline rules the server applies (tested against the
 * same table, `tests/cases/deadlines.json`), plus clock-offset correction and countdown text.
 * Pure functions: a 1 s tick only calls these, never the network.
 */

/** The session body fields the deadline rules read (the service's own names). */
export interface ISessionTimes {
  state?: string | null;
  max_ttl?: number | null;
  interactive_ttl?: number | null;
  started_at?: string | null;
  last_job_started?: string | null;
  last_job_completed?: string | null;
  closed_at?: string | null;
  created_at?: string | null;
  timestamps?: ReadonlyArray<{ status?: string; timestamp?: string }> | null;
}

export interface IDeadlines {
  max_ttl_at: string | null;
  interactive_ttl_at: string | null;
  idle_close_at: string | null;
}

function parse(value: string | null | undefined): number | null {
  if (!value) {
    return null;
  }
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function openedAt(body: ISessionTimes): number | null {
  const explicit = parse(body.created_at);
  if (explicit !== null) {
    return explicit;
  }
  const first = (body.timestamps ?? []).find(entry => entry.status === 'open');
  return parse(first?.timestamp);
}

/** When the service will act on its own (see the server's `derive.deadlines`). */
export function deadlinesOf(
  body: ISessionTimes,
  options: { pendingJobs: number; anyJob: boolean; noJobCloseSeconds: number }
): IDeadlines {
  const state = (body.state ?? '').toLowerCase();
  if (state === 'closed' || parse(body.closed_at) !== null) {
    return { max_ttl_at: null, interactive_ttl_at: null, idle_close_at: null };
  }
  const started = parse(body.started_at);
  const maxTtl = typeof body.max_ttl === 'number' ? body.max_ttl : null;
  const maxTtlAt =
    started !== null && maxTtl !== null ? started + maxTtl * 1000 : null;

  const lastCompleted = parse(body.last_job_completed);
  const lastStarted = parse(body.last_job_started);
  const running =
    lastStarted !== null &&
    (lastCompleted === null || lastStarted > lastCompleted);
  const ttl =
    typeof body.interactive_ttl === 'number' ? body.interactive_ttl : null;
  const idle = options.pendingJobs === 0 && !running;
  const interactiveTtlAt =
    state === 'active' && idle && lastCompleted !== null && ttl !== null
      ? lastCompleted + ttl * 1000
      : null;

  const opened = openedAt(body);
  const idleCloseAt =
    started === null && !options.anyJob && opened !== null
      ? opened + options.noJobCloseSeconds * 1000
      : null;
  return {
    max_ttl_at: iso(maxTtlAt),
    interactive_ttl_at: iso(interactiveTtlAt),
    idle_close_at: iso(idleCloseAt)
  };
}

/**
 * Milliseconds by which this browser's clock is ahead of the server's, from a server timestamp
 * received at local time `receivedAt` (a response's `server_time`).
 */
export function clockOffset(serverTime: string, receivedAt: number): number {
  const server = parse(serverTime);
  return server === null ? 0 : receivedAt - server;
}

/** Whole seconds left until `deadline` at local time `now`, on the server's clock; never < 0. */
export function secondsLeft(
  deadline: string | null,
  now: number,
  offset: number
): number | null {
  const at = parse(deadline);
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
