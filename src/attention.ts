/**
 * What needs the user's attention, as a pure function of a session before and after a change,
 * and the memory of what was already announced (shared by the tabs of one browser).
 */
import type { TranslationBundle } from '@jupyterlab/translation';

import type { IMonitorSettings } from './store/model';
import { budgetText, fitText, meterAt } from './money';
import {
  clockTime,
  endReasonText,
  formatDuration,
  isLost,
  isOpen,
  jobReasonText,
  notebookName,
  pendingJobs,
  shortId
} from './present';
import type { ISessionView } from './store/sessionStore';
import { secondsLeft, serviceClock } from './timer';

export type AttentionKind =
  | 'max_ttl'
  | 'inactive'
  | 'idle'
  | 'job_failed'
  | 'closed'
  | 'orphaned'
  | 'budget'
  | 'fit';

/** Something that needs the user's decision, once. */
export interface IAttention {
  /** Unique per occurrence: the same key is never notified twice, in any tab. */
  key: string;
  kind: AttentionKind;
  sessionId: string;
  type: 'info' | 'warning' | 'error';
  message: string;
  /** Offer "Close session…" (the session is open and costs money). */
  offerClose: boolean;
}

function where(view: ISessionView, trans: TranslationBundle): string {
  return view.notebook_path
    ? trans.__(
        'Session %1 (%2)',
        shortId(view.id),
        notebookName(view.notebook_path)
      )
    : trans.__('Session %1', shortId(view.id));
}

/**
 * What in `view` needs attention at `now` (local ms, `offset` the clock offset). `previous` is
 * the same session as this page saw it before the change (undefined when the page has just
 * loaded): state changes are only announced when the page saw them happen, so opening
 * JupyterLab does not replay history; thresholds and idleness are announced whenever they hold.
 */
export function attentionOf(
  view: ISessionView,
  previous: ISessionView | undefined,
  now: number,
  offset: number,
  settings: IMonitorSettings,
  trans: TranslationBundle
): IAttention[] {
  const result: IAttention[] = [];
  const name = where(view, trans);
  const base = { sessionId: view.id };
  const seen = previous !== undefined;
  const state = (view.state ?? '').toLowerCase();
  const open = isOpen(view);

  if (open && settings.notify.maxTtl && view.deadlines.max_ttl_at) {
    const left = secondsLeft(view.deadlines.max_ttl_at, now, offset);
    const maxTime = view.details?.max_time;
    const total = typeof maxTime === 'number' ? maxTime : Infinity;
    // Only the tightest threshold crossed (loading with 40 s left says "1 min", not "5 min"
    // too), and none the session was opened under: a 2-minute max_time is a choice, not news.
    const crossed = settings.maxTtlWarnings.filter(
      t => left !== null && left <= t && total > t
    );
    const threshold = crossed.length ? Math.min(...crossed) : null;
    if (left !== null && left > 0 && threshold !== null) {
      const { queued } = pendingJobs(view);
      result.push({
        ...base,
        key: `${view.id}:max_ttl:${view.deadlines.max_ttl_at}:${threshold}`,
        kind: 'max_ttl',
        type: 'warning',
        offerClose: true,
        message:
          queued > 0
            ? trans._n(
                '%2 reaches its max TTL at %3 (in %4): %1 queued job will fail.',
                '%2 reaches its max TTL at %3 (in %4): %1 queued jobs will fail.',
                queued,
                name,
                clockTime(view.deadlines.max_ttl_at, now - offset),
                formatDuration(left, trans)
              )
            : trans.__(
                '%1 reaches its max TTL at %2 (in %3) and will close.',
                name,
                clockTime(view.deadlines.max_ttl_at, now - offset),
                formatDuration(left, trans)
              )
      });
    }
  }

  // An orphaned session's warning says all that matters (open, unreachable, maybe billed): no
  // "went inactive" or "idle" next to it (they stacked after a kernel restart).
  const orphanedNow = open && view.orphaned;
  // Closing (the user or a budget closed it): nothing left to urge about its idle time.
  const closingNow = open && closing(view);
  if (
    settings.notify.inactive &&
    !orphanedNow &&
    !closingNow &&
    seen &&
    state === 'inactive' &&
    (previous.state ?? '').toLowerCase() === 'active'
  ) {
    result.push({
      ...base,
      key: `${view.id}:inactive:${view.details?.last_job_completed ?? ''}`,
      kind: 'inactive',
      type: 'info',
      offerClose: true,
      message: trans.__(
        '%1 went inactive: a job submitted now waits in the queue. Close it if you are done.',
        name
      )
    });
  }

  if (
    settings.notify.idle &&
    !orphanedNow &&
    !closingNow &&
    settings.idleWarningSeconds > 0 &&
    state === 'active'
  ) {
    const { queued, running } = pendingJobs(view);
    const last = view.details?.last_job_completed;
    const lastMs =
      typeof last === 'string' ? (serviceClock(view)(last) ?? NaN) : NaN;
    const idleFor = (now - offset - lastMs) / 1000;
    if (
      queued + running === 0 &&
      !Number.isNaN(lastMs) &&
      idleFor >= settings.idleWarningSeconds
    ) {
      const meter = meterAt(view, now - offset);
      result.push({
        ...base,
        key: `${view.id}:idle:${last}`,
        kind: 'idle',
        type: 'warning',
        offerClose: true,
        message:
          meter && meter.idle >= 1
            ? trans.__(
                '%1 has had no job for %2: idle and billed for %3 so far. Close it if you are done.',
                name,
                formatDuration(idleFor, trans),
                formatDuration(meter.idle, trans)
              )
            : trans.__(
                '%1 has had no job for %2 and is still billed. Close it if you are done.',
                name,
                formatDuration(idleFor, trans)
              )
      });
    }
  }

  if (settings.notify.jobFailed && seen) {
    const before = new Map(
      (previous.jobs ?? []).map(job => [job.id, job.status])
    );
    const failed = (view.jobs ?? []).filter(
      job => job.status === 'ERROR' && before.get(job.id) !== 'ERROR'
    );
    if (failed.length === 1) {
      const job = failed[0];
      result.push({
        ...base,
        key: `${view.id}:job_failed:${job.id}`,
        kind: 'job_failed',
        type: 'error',
        offerClose: false,
        message: jobReasonText(job)
          ? trans.__(
              'Job %1 of %2 failed: %3',
              shortId(job.id),
              name,
              jobReasonText(job)!
            )
          : trans.__('Job %1 of %2 failed.', shortId(job.id), name)
      });
    } else if (failed.length > 1) {
      // Jobs failing together (a max TTL reached with a queue) are one notification, not one
      // per job: the reason of the first says why.
      const reason = jobReasonText(failed[0]);
      result.push({
        ...base,
        key: `${view.id}:job_failed:${failed.map(job => job.id).join(',')}`,
        kind: 'job_failed',
        type: 'error',
        offerClose: false,
        message: reason
          ? trans.__('%1 jobs of %2 failed: %3', failed.length, name, reason)
          : trans.__('%1 jobs of %2 failed.', failed.length, name)
      });
    }
  }

  // A session closed or cancelled on request ended as asked: only the service's own ends
  // (max TTL, no job in time, or a reason it did not give) are news.
  const expected =
    view.end_reason === 'closed' || view.end_reason === 'cancelled';
  if (
    settings.notify.closed &&
    seen &&
    !open &&
    isOpen(previous) &&
    !expected
  ) {
    result.push({
      ...base,
      key: `${view.id}:closed`,
      kind: 'closed',
      type: 'warning',
      offerClose: false,
      message: isLost(view)
        ? trans.__(
            '%1: the Qiskit Runtime service no longer knows this session. Forget it in the sidebar.',
            name
          )
        : `${name}: ${endReasonText(view, trans) ?? trans.__('closed.')}`
    });
  }

  const budget = view.budget;
  if (settings.notify.budget && budget && (budget.warned || budget.reached)) {
    // One notification per budget and stage (a notebook's budget once, not once per session).
    const stage = budget.reached ? 'reached' : 'warned';
    const subject =
      budget.scope === 'notebook'
        ? trans.__('Notebook %1', notebookName(budget.target))
        : name;
    result.push({
      ...base,
      key: `budget:${budget.scope}:${budget.target}:${budget.set_at}:${stage}`,
      kind: 'budget',
      type: budget.reached ? 'error' : 'warning',
      offerClose: open && !budget.reached,
      message: `${subject}: ${budgetText(budget, null, trans)}`
    });
  }

  const fit = open ? fitText(view, trans) : null;
  if (settings.notify.fit && fit) {
    result.push({
      ...base,
      key: `${view.id}:fit:${view.deadlines.max_ttl_at ?? ''}`,
      kind: 'fit',
      type: 'warning',
      offerClose: false,
      message: `${name}: ${fit}`
    });
  }

  if (
    settings.notify.orphaned &&
    open &&
    !closingNow &&
    view.orphaned &&
    (!seen || !previous.orphaned)
  ) {
    result.push({
      ...base,
      key: `${view.id}:orphaned`,
      kind: 'orphaned',
      type: 'warning',
      offerClose: true,
      message:
        view.source === 'headless'
          ? trans.__(
              '%1 is still open but the headless run that opened it ended: nobody can use it and it may still be billed.',
              name
            )
          : trans.__(
              '%1 is still open but the kernel that opened it lost it (it restarted, shut down or died): no code can use it any more and it may still be billed.',
              name
            )
    });
  }
  return result;
}

/**
 * Remembers which attentions were shown, in this tab and across tabs of the same browser: a
 * Web Lock per key held by the tab that showed it, and localStorage for later tabs and reloads.
 */
export class SeenKeys {
  constructor(
    private readonly _storage: Storage | null = typeof localStorage ===
    'undefined'
      ? null
      : localStorage,
    private readonly _now: () => number = Date.now
  ) {}

  /** True the first time a key is claimed anywhere; false ever after. */
  async claim(key: string): Promise<boolean> {
    if (this._local.has(key)) {
      return false;
    }
    this._local.add(key);
    const locks =
      typeof navigator !== 'undefined' ? navigator.locks : undefined;
    if (!locks) {
      return this._claimStored(key);
    }
    // localStorage alone is not atomic across tabs (another tab may read before this write
    // reaches it), so the tab that shows a key also holds a Web Lock named after it for as long
    // as it lives; another tab asking for it meanwhile is refused at once. localStorage then
    // covers reloads and tabs opened later.
    return new Promise<boolean>(resolve => {
      void locks.request(
        `${SeenKeys.STORAGE_KEY}:${key}`,
        { ifAvailable: true },
        lock => {
          if (!lock) {
            resolve(false);
            return;
          }
          resolve(this._claimStored(key));
          // Held while the claim reaches localStorage (and other tabs), then released: a tab
          // that lives for days does not keep a lock per notification it ever showed.
          return new Promise<void>(done => setTimeout(done, SeenKeys.LOCK_MS));
        }
      );
    });
  }

  private _claimStored(key: string): boolean {
    if (!this._storage) {
      return true;
    }
    let stored: Record<string, number> = {};
    try {
      stored = JSON.parse(this._storage.getItem(SeenKeys.STORAGE_KEY) ?? '{}');
    } catch {
      stored = {};
    }
    if (key in stored) {
      return false;
    }
    const cutoff = this._now() - SeenKeys.KEEP_MS;
    const kept = Object.fromEntries(
      Object.entries(stored).filter(([, at]) => at >= cutoff)
    );
    kept[key] = this._now();
    try {
      this._storage.setItem(SeenKeys.STORAGE_KEY, JSON.stringify(kept));
    } catch {
      // Storage full or denied: this tab still remembers.
    }
    return true;
  }

  static readonly STORAGE_KEY = 'jupyter-session-monitor:notified';
  static readonly KEEP_MS = 24 * 3600 * 1000;
  static readonly LOCK_MS = 10_000;
  private _local = new Set<string>();
}

/**
 * Which tab of the browser should show a notification: the one the user looks at. A visible tab
 * says so in localStorage on every tick; a hidden tab shows a notification only when no tab has
 * said so for a few seconds (the user is in another application, and one tab must still warn).
 */
export class VisibleTabs {
  constructor(
    private readonly _storage: Storage | null = typeof localStorage ===
    'undefined'
      ? null
      : localStorage,
    private readonly _now: () => number = Date.now,
    private readonly _visible: () => boolean = () =>
      typeof document === 'undefined' || document.visibilityState === 'visible'
  ) {}

  get visible(): boolean {
    return this._visible();
  }

  /** On every tick: a visible tab says so. */
  beat(): void {
    if (this._visible() && this._storage) {
      try {
        this._storage.setItem(
          VisibleTabs.STORAGE_KEY,
          JSON.stringify({ tab: this._id, at: this._now() })
        );
      } catch {
        // Storage denied: hidden tabs then warn too, which is the safe side.
      }
    }
  }

  /** Whether this tab should show a notification now. */
  shouldShow(): boolean {
    if (this._visible()) {
      return true;
    }
    try {
      const other = JSON.parse(
        this._storage?.getItem(VisibleTabs.STORAGE_KEY) ?? 'null'
      ) as { tab: string; at: number } | null;
      return !(
        other &&
        other.tab !== this._id &&
        this._now() - other.at < VisibleTabs.FRESH_MS
      );
    } catch {
      return true;
    }
  }

  static readonly STORAGE_KEY = 'jupyter-session-monitor:visible-tab';
  /** A visible tab beats every second; older than this, it is hidden or gone. */
  static readonly FRESH_MS = 3_000;
  private readonly _id = Math.random().toString(36).slice(2);
}

/** It accepts no more jobs, or a close of it was accepted: it is closing. */
export function closing(view: ISessionView): boolean {
  return (
    view.accepting_jobs === false ||
    (view.pending_action?.action === 'close' &&
      view.pending_action.state === 'accepted')
  );
}
