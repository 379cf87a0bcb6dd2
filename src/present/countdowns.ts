import type { TranslationBundle } from '@jupyterlab/translation';
import type { ISessionView } from '../store/sessionStore';
import { formatCountdown, parseTime, secondsLeft } from '../timer';
import { isOpen } from './state';
import { formatDuration } from './words';

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
