/**
 * What the sidebar, the status bar and the notifications say about sessions, as pure functions
 * of the server's views and the time: grouping, the countdowns that matter, the consequences of
 * Close and Cancel, end reasons. No DOM and no network, so every rule is unit-tested.
 */
import type { TranslationBundle } from '@jupyterlab/translation';

import type { IJobView, ISessionView } from './sessionStore';
import { formatCountdown, parseTime, secondsLeft } from './timer';

/** Job statuses as `job.status()` names them, in the order the sidebar counts them. */
export const JOB_STATUSES = [
  'QUEUED',
  'RUNNING',
  'DONE',
  'ERROR',
  'CANCELLED'
] as const;

export function isClosed(view: ISessionView): boolean {
  return (view.state ?? '').toLowerCase() === 'closed';
}

/** The service answered that it does not know the session (deleted, or the service reset). */
export function isLost(view: ISessionView): boolean {
  return view.not_found === true;
}

/** Open, as far as the service says: not closed and still known to it. */
export function isOpen(view: ISessionView): boolean {
  return !isClosed(view) && !isLost(view);
}

/** Jobs that will still run (and be billed) unless cancelled. */
export function pendingJobs(view: ISessionView): {
  queued: number;
  running: number;
} {
  const summary = view.jobs_summary ?? {};
  return { queued: summary.QUEUED ?? 0, running: summary.RUNNING ?? 0 };
}

// ------------------------------------------------------------------ grouping

export type GroupKind =
  'orphaned' | 'notebook' | 'elsewhere' | 'lost' | 'closed';

export interface IGroup {
  /** Stable key: the notebook path, or the kind for the other groups. */
  key: string;
  kind: GroupKind;
  /** The notebook path for `notebook` groups, else null. */
  path: string | null;
  sessions: ISessionView[];
}

export interface IGroupOptions {
  /** Text to match against id, backend, notebook, mode and job tags (case-insensitive). */
  filter: string;
  /** `open`: only sessions that are not closed; `all`: recently closed ones too. */
  show: 'open' | 'all';
  /** How long a closed session stays under "Recently closed", in minutes. */
  recentlyClosedMinutes: number;
  /** Now, on the server's clock (ms). */
  now: number;
}

function closedAt(view: ISessionView): number | null {
  const value = view.details?.closed_at;
  const ms = typeof value === 'string' ? (parseTime(value) ?? NaN) : NaN;
  return Number.isNaN(ms) ? null : ms;
}

export function matches(view: ISessionView, filter: string): boolean {
  const needle = filter.trim().toLowerCase();
  if (!needle) {
    return true;
  }
  const haystack = [
    view.id,
    view.backend ?? '',
    view.notebook_path ?? '',
    view.mode ?? '',
    view.status,
    ...(view.jobs ?? []).flatMap(job => [job.id, ...job.tags])
  ];
  return haystack.some(text => text.toLowerCase().includes(needle));
}

/**
 * The jobs an expanded row lists under the filter: when the session matches only through some
 * of its jobs (their tags or ids), those jobs; when it matches by itself (id, backend, notebook,
 * mode, status) or there is no filter, all of them. `hidden` is how many are left out.
 */
export function filterJobs(
  view: ISessionView,
  filter: string
): { jobs: IJobView[]; hidden: number } {
  const jobs = view.jobs ?? [];
  const needle = filter.trim().toLowerCase();
  const own = [
    view.id,
    view.backend ?? '',
    view.notebook_path ?? '',
    view.mode ?? '',
    view.status
  ];
  if (!needle || own.some(text => text.toLowerCase().includes(needle))) {
    return { jobs, hidden: 0 };
  }
  const shown = jobs.filter(job =>
    [job.id, ...job.tags].some(text => text.toLowerCase().includes(needle))
  );
  return { jobs: shown, hidden: jobs.length - shown.length };
}

/** How many jobs an expanded row lists before offering more. */
export const JOB_PAGE = 20;

function jobRank(status: string): number {
  switch (status) {
    case 'RUNNING':
      return 0;
    case 'DONE':
    case 'ERROR':
    case 'CANCELLED':
      return 2;
    default:
      return 1; // QUEUED, and any status the service adds that is not final
  }
}

/**
 * Jobs in the order a user looks for them: running first, then queued in queue order (the next
 * to run at the top), then finished ones, most recently finished first.
 */
export function orderJobs(jobs: readonly IJobView[]): IJobView[] {
  const at = (value: string | null | undefined): number =>
    (value && parseTime(value)) || 0;
  return [...jobs].sort((a, b) => {
    const rank = jobRank(a.status) - jobRank(b.status);
    if (rank !== 0) {
      return rank;
    }
    if (jobRank(a.status) === 1) {
      return at(a.created) - at(b.created);
    }
    return (
      at(b.finished ?? b.created) - at(a.finished ?? a.created) ||
      at(b.created) - at(a.created)
    );
  });
}

/** Jobs per status, in `JOB_STATUSES` order then any others, leaving out those with none. */
export function countJobs(
  jobs: readonly IJobView[]
): { status: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const job of jobs) {
    counts.set(job.status, (counts.get(job.status) ?? 0) + 1);
  }
  const known: readonly string[] = JOB_STATUSES;
  const order = [
    ...JOB_STATUSES,
    ...[...counts.keys()].filter(status => !known.includes(status)).sort()
  ];
  return order
    .filter(status => counts.has(status))
    .map(status => ({ status, count: counts.get(status)! }));
}

function newestFirst(a: ISessionView, b: ISessionView): number {
  return (b.tracked_at ?? '').localeCompare(a.tracked_at ?? '');
}

/**
 * The key of the group `groupSessions` puts a session in ("orphaned", "notebook:<path>",
 * "elsewhere", "lost", "closed"), or null when it is not listed: filtered out, or closed while
 * only open sessions are shown or longer ago than the recently closed minutes.
 */
export function groupKeyOf(
  view: ISessionView,
  options: IGroupOptions
): string | null {
  if (!matches(view, options.filter)) {
    return null;
  }
  if (isLost(view)) {
    return 'lost';
  }
  if (isClosed(view)) {
    const at = closedAt(view);
    const cutoff = options.now - options.recentlyClosedMinutes * 60_000;
    return options.show === 'all' && (at === null || at >= cutoff)
      ? 'closed'
      : null;
  }
  if (view.orphaned) {
    return 'orphaned';
  }
  return view.notebook_path ? `notebook:${view.notebook_path}` : 'elsewhere';
}

/**
 * Where `groupSessions` puts a session: its group and what orders it there, as one string
 * (empty when it is not listed). A change that leaves it the same moves nothing in the list.
 */
export function placementOf(
  view: ISessionView | undefined,
  options: IGroupOptions
): string {
  const key = view ? groupKeyOf(view, options) : null;
  if (key === null) {
    return '';
  }
  const order = key === 'closed' ? closedAt(view!) : view!.tracked_at;
  return `${key}\n${order ?? ''}`;
}

/** When the first of these closed sessions leaves "Recently closed" (server ms), or Infinity. */
export function closedListedUntil(
  sessions: Iterable<ISessionView>,
  recentlyClosedMinutes: number
): number {
  let until = Number.POSITIVE_INFINITY;
  for (const view of sessions) {
    const at = closedAt(view);
    if (at !== null) {
      until = Math.min(until, at + recentlyClosedMinutes * 60_000);
    }
  }
  return until;
}

/**
 * The sidebar's groups, in display order: orphaned sessions first (they cost money and nobody
 * can reach them), then one group per notebook (by name), then sessions tracked by id or opened
 * elsewhere, then those the service no longer knows (to forget them), then recently closed
 * ones. Empty groups are left out.
 */
export function groupSessions(
  sessions: Iterable<ISessionView>,
  options: IGroupOptions
): IGroup[] {
  const byKey = new Map<string, ISessionView[]>();
  for (const view of sessions) {
    const key = groupKeyOf(view, options);
    if (key !== null) {
      const list = byKey.get(key);
      if (list) {
        list.push(view);
      } else {
        byKey.set(key, [view]);
      }
    }
  }
  const groups: IGroup[] = [];
  const add = (key: string, kind: GroupKind, path: string | null) => {
    const list = byKey.get(key);
    if (list) {
      groups.push({ key, kind, path, sessions: list.sort(newestFirst) });
    }
  };
  add('orphaned', 'orphaned', null);
  const paths = [...byKey.keys()]
    .filter(key => key.startsWith('notebook:'))
    .map(key => key.slice('notebook:'.length))
    .sort((a, b) => notebookName(a).localeCompare(notebookName(b)));
  for (const path of paths) {
    add(`notebook:${path}`, 'notebook', path);
  }
  add('elsewhere', 'elsewhere', null);
  add('lost', 'lost', null);
  const closed = byKey.get('closed');
  if (closed) {
    closed.sort((a, b) => (closedAt(b) ?? 0) - (closedAt(a) ?? 0));
    groups.push({
      key: 'closed',
      kind: 'closed',
      path: null,
      sessions: closed
    });
  }
  return groups;
}

/** "vqe.ipynb" for "work/chemistry/vqe.ipynb". */
export function notebookName(path: string): string {
  const parts = path.split('/');
  return parts[parts.length - 1] || path;
}

export function groupTitle(
  group: Pick<IGroup, 'kind' | 'path'>,
  trans: TranslationBundle
): string {
  switch (group.kind) {
    case 'orphaned':
      return trans.__('Orphaned (kernel gone, session still open)');
    case 'notebook':
      return notebookName(group.path ?? '');
    case 'elsewhere':
      return trans.__('Tracked by id / elsewhere');
    case 'lost':
      return trans.__('Not found at the service');
    case 'closed':
      return trans.__('Recently closed');
  }
}

// ------------------------------------------------------------------ countdowns

export type CountdownKind =
  | 'idle_close'
  | 'interactive_ttl'
  | 'max_ttl'
  | 'max_ttl_not_started'
  | 'inactive';

export interface ICountdown {
  kind: CountdownKind;
  /** Seconds left, or null for a statement without a clock ("starts with the first job"). */
  seconds: number | null;
  /** The sentence the user reads, countdown included. */
  text: string;
  /** What a screen reader hears: the moment, not a ticking number. */
  label: string;
  /** For max TTL: the fraction of the maximum time used (0..1). */
  progress?: number;
}

/**
 * A server timestamp as the page's language writes the local time (`document.documentElement.lang`,
 * as JupyterLab's own `Time.format` does), with the date in front when it is not today; "—" when
 * there is none.
 */
export function clockTime(
  value: string | null | undefined,
  now: number = Date.now()
): string {
  if (!value) {
    return '—';
  }
  const lang =
    (typeof document !== 'undefined' && document.documentElement.lang) ||
    undefined;
  const kept = CLOCK_TIMES.get(value);
  if (
    kept &&
    kept.lang === lang &&
    (kept.ms === null || onDayOf(kept.ms, now) === kept.today)
  ) {
    return kept.text;
  }
  const ms = kept ? kept.ms : parseTime(value);
  let text = value;
  let today = false;
  if (ms !== null) {
    today = onDayOf(ms, now);
    const moment = new Date(ms);
    const time = formatter(lang, 'time').format(moment);
    text = today ? time : `${formatter(lang, 'date').format(moment)} ${time}`;
  }
  if (CLOCK_TIMES.size >= CLOCK_TIMES_MAX) {
    CLOCK_TIMES.clear();
  }
  CLOCK_TIMES.set(value, { ms, lang, today, text });
  return text;
}

/**
 * Times already written, by the timestamp as the server wrote it: a pushed change writes its
 * session's deadlines and the times of its jobs again, and reading and formatting one costs far
 * more than finding it. Written again for another language, or when the moment's day turns
 * from today to another (emptied when it holds `CLOCK_TIMES_MAX`).
 */
const CLOCK_TIMES = new Map<
  string,
  { ms: number | null; lang: string | undefined; today: boolean; text: string }
>();
const CLOCK_TIMES_MAX = 2000;

/** Where the local day of the last `now` asked about starts and ends, ms. */
let DAY = { start: 0, end: 0 };

/** Whether `ms` falls on the local calendar day of `now`. */
function onDayOf(ms: number, now: number): boolean {
  if (now < DAY.start || now >= DAY.end) {
    const date = new Date(now);
    const [year, month, day] = [
      date.getFullYear(),
      date.getMonth(),
      date.getDate()
    ];
    // Midnight to midnight in local time: 23 or 25 hours on a daylight-saving change.
    DAY = {
      start: new Date(year, month, day).getTime(),
      end: new Date(year, month, day + 1).getTime()
    };
  }
  return ms >= DAY.start && ms < DAY.end;
}

/**
 * What `toLocaleTimeString(lang)` and `toLocaleDateString(lang)` use (ECMA-402: hour, minute
 * and second, or year, month and day, numeric), made once per language: a job table formats
 * many times, and making a formatter costs far more than using one.
 */
function formatter(
  lang: string | undefined,
  kind: 'time' | 'date'
): Intl.DateTimeFormat {
  const key = `${lang ?? ''}|${kind}`;
  let made = FORMATTERS.get(key);
  if (!made) {
    made = new Intl.DateTimeFormat(
      lang,
      kind === 'time'
        ? { hour: 'numeric', minute: 'numeric', second: 'numeric' }
        : { year: 'numeric', month: 'numeric', day: 'numeric' }
    );
    FORMATTERS.set(key, made);
  }
  return made;
}

const FORMATTERS = new Map<string, Intl.DateTimeFormat>();

/**
 * Every countdown that applies to a session at `now` (local ms), soonest first; `offset` is how
 * far this browser's clock is ahead of the server's. Closed sessions have none.
 */
export function countdownsOf(
  view: ISessionView,
  now: number,
  offset: number,
  trans: TranslationBundle
): ICountdown[] {
  if (!isOpen(view)) {
    return [];
  }
  const result: ICountdown[] = [];
  const { deadlines } = view;
  const idle = secondsLeft(deadlines.idle_close_at, now, offset);
  if (idle !== null) {
    result.push({
      kind: 'idle_close',
      seconds: idle,
      text: trans.__(
        'closes in %1 unless a job is submitted',
        formatCountdown(idle)
      ),
      label: trans.__(
        'closes at %1 unless a job is submitted',
        clockTime(deadlines.idle_close_at!, now - offset)
      )
    });
  }
  const interactive = secondsLeft(deadlines.interactive_ttl_at, now, offset);
  if (interactive !== null) {
    result.push({
      kind: 'interactive_ttl',
      seconds: interactive,
      text: trans.__('deactivates in %1', formatCountdown(interactive)),
      label: trans.__(
        'deactivates at %1 unless a job is submitted',
        clockTime(deadlines.interactive_ttl_at!, now - offset)
      )
    });
  }
  if ((view.state ?? '').toLowerCase() === 'inactive') {
    result.push({
      kind: 'inactive',
      seconds: null,
      text: trans.__('inactive — a job submitted now waits in the queue'),
      label: trans.__('inactive — a job submitted now waits in the queue')
    });
  }
  const maxLeft = secondsLeft(deadlines.max_ttl_at, now, offset);
  const maxTime = view.details?.max_time;
  if (maxLeft !== null) {
    const total = typeof maxTime === 'number' && maxTime > 0 ? maxTime : null;
    result.push({
      kind: 'max_ttl',
      seconds: maxLeft,
      text: trans.__('max TTL left %1', formatCountdown(maxLeft)),
      label: trans.__(
        'reaches its maximum time at %1',
        clockTime(deadlines.max_ttl_at!, now - offset)
      ),
      progress:
        total === null
          ? undefined
          : Math.min(1, Math.max(0, 1 - maxLeft / total))
    });
  } else {
    const text =
      typeof maxTime === 'number' && maxTime > 0
        ? trans.__(
            'max TTL %1, counted from the first job',
            formatDuration(maxTime, trans)
          )
        : trans.__('max TTL starts with the first job');
    result.push({
      kind: 'max_ttl_not_started',
      seconds: null,
      text,
      label: text
    });
  }
  // The soonest clock first, statements without a clock after.
  return result.sort(
    (a, b) => (a.seconds ?? Infinity) - (b.seconds ?? Infinity)
  );
}

/**
 * What a collapsed row shows: the soonest clock, and "inactive" when it is (being inactive
 * matters whatever the clocks say); a statement when there is no clock at all.
 */
export function primaryCountdowns(countdowns: ICountdown[]): ICountdown[] {
  const clock = countdowns.find(c => c.seconds !== null);
  const inactive = countdowns.find(c => c.kind === 'inactive');
  const shown = [clock, inactive].filter(
    (c): c is ICountdown => c !== undefined
  );
  return shown.length ? shown : countdowns.slice(0, 1);
}

/**
 * Seconds until the service closes the session on its own (max TTL, or the no-job close); null
 * if neither applies. Deactivation is left out: it ends nothing and costs nothing.
 */
export function soonestCloseSeconds(
  view: ISessionView,
  now: number,
  offset: number
): number | null {
  if (!isOpen(view)) {
    return null;
  }
  const left = [view.deadlines.idle_close_at, view.deadlines.max_ttl_at]
    .map(deadline => secondsLeft(deadline, now, offset))
    .filter((value): value is number => value !== null);
  return left.length ? Math.min(...left) : null;
}

// ------------------------------------------------------------------ words

/** "dedicated" is what the service calls a session. */
export function modeText(view: ISessionView, trans: TranslationBundle): string {
  return view.mode === 'batch' ? trans.__('batch') : trans.__('session');
}

export function shortId(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id;
}

/** "45 s", "12 min 03 s", "2 h 05 min". */
export function formatDuration(
  seconds: number | null | undefined,
  trans: TranslationBundle
): string {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) {
    return trans.__('—');
  }
  if (seconds < 10) {
    return trans.__('%1 s', seconds.toFixed(1).replace(/\.0$/, ''));
  }
  const whole = Math.round(seconds);
  if (whole < 60) {
    return trans.__('%1 s', whole);
  }
  if (whole < 3600) {
    const s = String(whole % 60).padStart(2, '0');
    return trans.__('%1 min %2 s', Math.floor(whole / 60), s);
  }
  const min = String(Math.floor((whole % 3600) / 60)).padStart(2, '0');
  return trans.__('%1 h %2 min', Math.floor(whole / 3600), min);
}

/** "3 queued · 1 running · 12 done", statuses with no job left out. */
/** "3 queued", "1 failed": how many jobs have a status, in words. */
export function jobCountText(
  status: string,
  count: number,
  trans: TranslationBundle
): string {
  switch (status) {
    case 'QUEUED':
      return trans._n('%1 queued', '%1 queued', count);
    case 'RUNNING':
      return trans._n('%1 running', '%1 running', count);
    case 'DONE':
      return trans._n('%1 done', '%1 done', count);
    case 'ERROR':
      return trans._n('%1 failed', '%1 failed', count);
    case 'CANCELLED':
      return trans._n('%1 cancelled', '%1 cancelled', count);
    default:
      return `${count} ${status.toLowerCase()}`;
  }
}

export function jobCountsText(
  view: ISessionView,
  trans: TranslationBundle
): string {
  const summary = view.jobs_summary ?? {};
  const parts = JOB_STATUSES.filter(status => (summary[status] ?? 0) > 0).map(
    status => jobCountText(status, summary[status], trans)
  );
  return parts.length ? parts.join(' · ') : trans.__('no jobs yet');
}

export function endReasonText(
  view: ISessionView,
  trans: TranslationBundle
): string | null {
  switch (view.end_reason) {
    case null:
    case undefined:
      return null;
    case 'closed':
      return trans.__(
        'Closed: it stopped accepting jobs and its jobs finished.'
      );
    case 'cancelled': {
      const cancelled = view.jobs_summary?.CANCELLED ?? 0;
      return cancelled
        ? trans._n(
            'Cancelled: it ended at once; %1 job was cancelled.',
            'Cancelled: it ended at once; %1 jobs were cancelled.',
            cancelled
          )
        : trans.__('Cancelled: it ended at once; no job was queued.');
    }
    case 'max_ttl': {
      const failed = view.jobs_summary?.ERROR ?? 0;
      return failed
        ? trans._n(
            'Ended at its maximum time (max TTL); %1 job failed (jobs still queued then fail).',
            'Ended at its maximum time (max TTL); %1 jobs failed (jobs still queued then fail).',
            failed
          )
        : trans.__(
            'Ended at its maximum time (max TTL); no job was left waiting.'
          );
    }
    case 'idle_timeout':
      return trans.__('Closed by the service: no job was submitted in time.');
    default:
      return trans.__('Closed; the service did not say why.');
  }
}

// ------------------------------------------------------------------ actions

export type SessionAction = 'close' | 'cancel';

/** Which of Close and Cancel apply: none once closed; Close only while it accepts jobs. */
export function actionsFor(view: ISessionView): SessionAction[] {
  if (!isOpen(view)) {
    return [];
  }
  // An action the service accepted, not confirmed by a read yet, is not offered again; one
  // whose answer never came may be tried again (closing and cancelling are idempotent).
  const pending =
    view.pending_action?.state === 'accepted'
      ? view.pending_action.action
      : undefined;
  if (pending === 'cancel') {
    return [];
  }
  return view.accepting_jobs === false || pending === 'close'
    ? ['cancel']
    : ['close', 'cancel'];
}

/**
 * A close or cancel the service accepted (or whose answer never came), until a read confirms
 * it: said at once, with the time it was sent, on the row and the widget.
 */
export function pendingActionText(
  view: ISessionView,
  trans: TranslationBundle
): string | null {
  const pending = view.pending_action;
  if (!pending || !isOpen(view)) {
    return null;
  }
  const at = clockTime(pending.at);
  if (pending.state === 'accepted') {
    return pending.action === 'close'
      ? trans.__(
          'Close accepted by the service at %1; not confirmed by a read yet.',
          at
        )
      : trans.__(
          'Cancel accepted by the service at %1; not confirmed by a read yet.',
          at
        );
  }
  return pending.action === 'close'
    ? trans.__(
        'Close sent at %1 got no answer: the session may or may not have closed. Checking.',
        at
      )
    : trans.__(
        'Cancel sent at %1 got no answer: the session may or may not have ended. Checking.',
        at
      );
}

/** The confirmation's sentence: what will happen, with numbers. */
export function consequence(
  view: ISessionView,
  action: SessionAction,
  trans: TranslationBundle
): string {
  const { queued, running } = pendingJobs(view);
  if (action === 'close') {
    if (queued + running === 0) {
      return trans.__(
        'Close: no new jobs; nothing is queued or running, so the session ends now.'
      );
    }
    const parts: string[] = [];
    if (queued) {
      parts.push(
        trans._n(
          '%1 queued job will still run',
          '%1 queued jobs will still run',
          queued
        )
      );
    }
    if (running) {
      parts.push(
        trans._n('%1 running job finishes', '%1 running jobs finish', running)
      );
    }
    return trans.__(
      'Close: no new jobs; %1. The session ends when they are done and is billed until then.',
      parts.join('; ')
    );
  }
  if (queued + running === 0) {
    return trans.__(
      'Cancel: nothing is queued or running, so no job is cancelled; the session ends now.'
    );
  }
  const parts: string[] = [];
  if (queued) {
    parts.push(
      trans._n(
        '%1 queued job will be cancelled',
        '%1 queued jobs will be cancelled',
        queued
      )
    );
  }
  if (running) {
    parts.push(
      trans._n('%1 running job finishes', '%1 running jobs finish', running)
    );
  }
  return trans.__('Cancel: %1. The session ends now.', parts.join('; '));
}

/** A failed or cancelled job's reason in the service's words: "1517: The circuit acts on …". */
export function jobReasonText(job: IJobView): string | null {
  const reason = job.reason;
  if (!reason || (!reason.message && reason.code === null)) {
    return null;
  }
  const code = reason.code === null ? '' : `${reason.code}`;
  return code && reason.message
    ? `${code}: ${reason.message}`
    : code || reason.message;
}

export function jobCancellable(job: IJobView): boolean {
  return job.status === 'QUEUED' || job.status === 'RUNNING';
}
