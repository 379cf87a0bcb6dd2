import { ISignal, Signal } from '@lumino/signaling';

import { isOpen } from '../present';
import { clockOffset } from '../timer';

/** One job of a session, as the server lists it. */
export interface IJobView {
  id: string;
  program_id: string;
  /** As `job.status()` names it: QUEUED, RUNNING, DONE, ERROR or CANCELLED. */
  status: string;
  tags: string[];
  created: string | null;
  /** Quantum seconds billed, once the job is final. */
  usage_seconds?: number | null;
  /** Why it failed or was cancelled, in the service's words. */
  reason?: { code: number | null; message: string } | null;
  /** The service's estimate of its quantum seconds. */
  estimated_seconds?: number | null;
  /** When it ran, once known (`GET sessions/{id}/timeline` reads it). */
  started?: string | null;
  finished?: string | null;
  /** The notebook cell that submitted it. */
  cell?: ICellRef | null;
}

/** A notebook cell as its kernel reported it. */
export interface ICellRef {
  id: string | null;
  execution_count: number | null;
}

/** What a session has been billed, as of `last_polled_at` (docs/openapi.yaml, Billing). */
export interface IBilling {
  billed_seconds: number;
  billed_idle_seconds: number;
  max_billed_seconds: number;
  cost: number | null;
  max_cost: number | null;
  currency: string | null;
  rate_per_second: number | null;
  /** The service bills it now: add the seconds since `last_polled_at`, up to `accrues_until`. */
  accruing: boolean;
  idle_accruing: boolean;
  accrues_until: string | null;
  /** What bounds `max_billed_seconds`: the max TTL, or the drain of a closing session. */
  max_billed_until?: 'max_ttl' | 'drain';
  /** Closed and its usage figures settled since: the service reports usage periodically. */
  usage_settled?: boolean;
}

/** A budget on a session or a notebook, with what it counts so far. */
export interface IBudgetView {
  scope: 'session' | 'notebook';
  target: string;
  seconds: number | null;
  amount: number | null;
  action: 'notify' | 'close' | 'cancel';
  threshold: number;
  set_at: string;
  warned: boolean;
  warned_at: string | null;
  reached: boolean;
  reached_at: string | null;
  outcome: string | null;
  spent_seconds: number;
  /** Of which the service itself reported: what the budget acts on. */
  reported_seconds?: number;
  /** A notebook budget's sessions that other Jupyter servers of the registry monitor (counted). */
  elsewhere_session_ids?: string[];
  spent_amount: number | null;
  limit_seconds: number | null;
  used: number | null;
  currency: string | null;
  problem: string | null;
}

/** Whether the queued jobs start before the max TTL. */
export interface IFit {
  queued: number;
  expected_to_fail: number | null;
  drain_seconds: number | null;
  basis: 'wall_clock' | 'service_estimate' | 'observed' | null;
  max_ttl_at: string | null;
  first_failing_job: string | null;
  lower_bound: boolean;
}

/** One account's instance allowance (`GET instances`). */
export interface IInstanceUsage {
  account: { name: string | null; instance: string | null };
  instance: string | null;
  consumed_seconds: number | null;
  limit_seconds: number | null;
  remaining_seconds: number | null;
  limit_reached: boolean;
  period_start: string | null;
  period_end: string | null;
  as_of: string | null;
  error: { kind: string; message: string } | null;
  projected_remaining_seconds: number | null;
  open_worst_case_seconds: number;
  at_risk: boolean;
}

/** The rate, the instances and the notebooks' budgets (the snapshot's `money`). */
export interface IMoney {
  rate: { rate_per_second: number | null; currency: string | null };
  instances: IInstanceUsage[];
  notebook_budgets: IBudgetView[];
}

export const NO_MONEY: IMoney = {
  rate: { rate_per_second: null, currency: null },
  instances: [],
  notebook_budgets: []
};

/** One state change the monitor saw (only in `GET sessions/{id}`). */
export interface ITransition {
  at: string;
  state: string | null;
  accepting_jobs: boolean | null;
  status: string;
}

/** The server's SessionView (see docs/openapi.yaml). */
export interface ISessionView {
  id: string;
  /** Exactly as `Session.status()` words it. */
  status: string;
  state: string | null;
  mode: string | null;
  backend: string | null;
  notebook_path: string | null;
  kernel_id: string | null;
  orphaned: boolean;
  /** The service answered 404: it no longer knows this session. */
  not_found?: boolean;
  stale: boolean;
  deadlines: {
    max_ttl_at: string | null;
    interactive_ttl_at: string | null;
    idle_close_at: string | null;
  };
  accepting_jobs?: boolean | null;
  state_reason?: string | null;
  source?: string;
  created_at?: string | null;
  tracked_at?: string | null;
  /** The 15 keys `Session.details()` returns. */
  details?: Record<string, unknown>;
  usage_seconds?: number | null;
  /**
   * The service's clock minus the server's, seconds: the deadlines are on the server's clock,
   * the service's own timestamps (`details`, job times) on the service's (`serviceClock`).
   */
  service_clock_offset_seconds?: number;
  /** A close or cancel sent and not yet confirmed by a read (docs/openapi.yaml). */
  pending_action?: {
    action: 'close' | 'cancel';
    state: 'accepted' | 'unknown';
    at: string;
  } | null;
  jobs?: IJobView[];
  jobs_summary?: Record<string, number>;
  last_polled_at?: string | null;
  error?: { kind: string; message: string } | null;
  end_reason?: string | null;
  timeline?: ITransition[];
  billing?: IBilling;
  budget?: IBudgetView | null;
  fit?: IFit | null;
  /** The notebook cell that opened it. */
  cell?: ICellRef | null;
}

/** `GET session-monitor/api/sessions`. */
export interface ISnapshot {
  sessions: ISessionView[];
  server_time: string;
  version: number;
  money?: IMoney;
}

/** One pushed change (the `session_changes/v1` event's fields). */
export interface IChange {
  version: number;
  kind: 'added' | 'updated' | 'removed' | 'polled' | 'money';
  session_id: string;
  session: ISessionView | null;
  /** For `money`: the rate, instances and notebook budgets now. */
  money?: IMoney | null;
  /** For `polled`: sessions read from the service with nothing else changed, and when. */
  polled?: Record<string, string | null> | null;
}

export type Connection = 'loading' | 'live' | 'reconnecting' | 'error';

/**
 * One store per page: a snapshot from the REST API kept current by pushed changes.
 *
 * Every change carries the server's version; a change that skips one means something was missed
 * (a dropped connection, a hidden tab), so the store reloads the snapshot. Changes that arrive
 * while it reloads are kept and applied on top of it if they are newer; a hole among them means
 * another reload. Order at start: the snapshot is requested, the push channel subscribes, and
 * when it has subscribed a snapshot requested after that is loaded too (`resync({fresh})`).
 */
export class SessionStore {
  constructor(
    private readonly _fetchSnapshot: () => Promise<ISnapshot>,
    private readonly _now: () => number = Date.now
  ) {}

  get sessions(): ReadonlyMap<string, ISessionView> {
    return this._sessions;
  }

  get version(): number {
    return this._version;
  }

  /**
   * The sessions the service says are open (`isOpen`), a new list after each change: the change
   * to a session that stays open replaces it in a copy of the last list, any other lists them
   * all again when next asked.
   */
  get open(): readonly ISessionView[] {
    if (!this._open) {
      this._open = [...this._sessions.values()].filter(isOpen);
      this._openAt = new Map(this._open.map((view, i) => [view.id, i]));
    }
    return this._open;
  }

  /** The rate, the instances' allowance and the notebooks' budgets. */
  get money(): IMoney {
    return this._money;
  }

  /** Milliseconds this browser's clock is ahead of the server's (for countdowns). */
  get clockOffset(): number {
    return this._offset;
  }

  get connection(): Connection {
    return this._connection;
  }

  /** Why the last reload failed, in words; null while all is well. */
  get error(): string | null {
    return this._error;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /**
   * The sessions the change being signalled touched (added, replaced or removed), by id; null
   * after a reload (any of them). Read it in a `changed` handler.
   */
  get lastChanged(): ReadonlySet<string> | null {
    return this._lastChanged;
  }

  /**
   * Listen to one session: the listener is called after a change to it (replaced, added,
   * removed) or a reload has been applied, once `changed` has been signalled. Returns the
   * function that stops listening. A row watches its own session, so that a change re-renders
   * the row it is about rather than the whole list.
   */
  watch(id: string, listener: () => void): () => void {
    let listeners = this._watchers.get(id);
    if (!listeners) {
      listeners = new Set();
      this._watchers.set(id, listeners);
    }
    listeners.add(listener);
    return () => {
      const current = this._watchers.get(id);
      current?.delete(listener);
      if (current?.size === 0) {
        this._watchers.delete(id);
      }
    };
  }

  /**
   * Reload the snapshot (at start, on reconnect, when the tab becomes visible, after a gap).
   * Callers share a reload in flight; with `fresh`, a reload that *starts after* this call is
   * made too: the push channel has just subscribed, and a change made between an earlier
   * snapshot request and the subscription is only in a snapshot taken after it.
   */
  async resync(options: { fresh?: boolean } = {}): Promise<void> {
    if (this._resyncing) {
      this._again = this._again || options.fresh === true;
      return this._resyncing;
    }
    this._resyncing = (async () => {
      do {
        this._again = false;
        this._buffer = [];
        await this._load();
      } while (this._again);
    })().finally(() => {
      this._resyncing = null;
    });
    return this._resyncing;
  }

  /** A pushed change. */
  apply(change: IChange): void {
    if (this._resyncing) {
      this._buffer.push(change);
      return;
    }
    if (change.version <= this._version) {
      return; // already part of what the store holds
    }
    if (change.version !== this._version + 1) {
      void this.resync(); // a change was missed
      return;
    }
    const touched = new Set<string>();
    this._put(change, touched);
    this._emit(touched);
  }

  /**
   * The push channel dropped, or could not open at all (a proxy that does not pass WebSockets):
   * say so until it is open again. A reload in the meantime refreshes the numbers but does not
   * make them live: no change would be pushed after it.
   */
  disconnected(): void {
    this._pushDown = true;
    if (this._connection !== 'reconnecting') {
      this._connection = 'reconnecting';
      this._emit(new Set());
    }
  }

  /** The push channel is open (again): reload, as changes may have been missed meanwhile. */
  connected(): Promise<void> {
    this._pushDown = false;
    return this.resync({ fresh: true });
  }

  private async _load(): Promise<void> {
    let snapshot: ISnapshot;
    const sentAt = this._now();
    try {
      snapshot = await this._fetchSnapshot();
    } catch (error) {
      this._connection = 'error';
      this._error = (error as Error).message;
      this._emit(new Set());
      this._retryLater();
      return;
    }
    this._failures = 0;
    this._sessions = new Map(snapshot.sessions.map(s => [s.id, s]));
    this._open = null;
    this._money = snapshot.money ?? NO_MONEY;
    this._version = snapshot.version;
    this._offset = clockOffset(snapshot.server_time, sentAt, this._now());
    this._connection = this._pushDown ? 'reconnecting' : 'live';
    this._error = null;
    const pending = this._buffer.sort((a, b) => a.version - b.version);
    this._buffer = [];
    for (const change of pending) {
      if (change.version <= this._version) {
        continue; // the snapshot already holds it
      }
      if (change.version !== this._version + 1) {
        this._again = true; // a hole in what arrived meanwhile: only a new snapshot fills it
        break;
      }
      this._put(change, new Set());
    }
    this._emit(null);
  }

  /** Signal `changed`, then the watchers of the sessions touched (null: all of them). */
  private _emit(touched: ReadonlySet<string> | null): void {
    this._lastChanged = touched;
    this._changed.emit();
    const ids = touched ?? [...this._watchers.keys()];
    for (const id of ids) {
      for (const listener of [...(this._watchers.get(id) ?? [])]) {
        listener();
      }
    }
  }

  /**
   * A failed reload is tried again by itself: after 1 s, doubling to 30 s, with jitter so that
   * tabs do not retry together; not while the page is hidden (it reloads when shown again).
   */
  private _retryLater(): void {
    this._failures += 1;
    if (this._retry !== null) {
      return;
    }
    const base = Math.min(30_000, 1_000 * 2 ** (this._failures - 1));
    const delay = base * (0.75 + Math.random() * 0.5);
    this._retry = setTimeout(() => {
      this._retry = null;
      if (
        typeof document === 'undefined' ||
        document.visibilityState !== 'hidden'
      ) {
        void this.resync();
      }
    }, delay);
  }

  /** Stop retrying (the page is going away). */
  dispose(): void {
    if (this._retry !== null) {
      clearTimeout(this._retry);
      this._retry = null;
    }
  }

  private _put(change: IChange, touched: Set<string>): void {
    if (change.kind === 'money') {
      this._money = change.money ?? this._money;
    } else if (change.kind === 'polled') {
      for (const [id, at] of Object.entries(change.polled ?? {})) {
        const known = this._sessions.get(id);
        if (known) {
          this._sessions.set(id, { ...known, last_polled_at: at });
          touched.add(id);
        }
      }
      this._open = null;
    } else if (change.kind === 'removed' || change.session === null) {
      this._sessions.delete(change.session_id);
      touched.add(change.session_id);
      this._open = null;
    } else {
      this._sessions.set(change.session_id, change.session);
      touched.add(change.session_id);
      this._replaceOpen(change.session_id, change.session);
    }
    this._version = change.version;
  }

  /** `open` once `view` replaced session `id`: patched in a copy if it was and stays open. */
  private _replaceOpen(id: string, view: ISessionView): void {
    const at = this._openAt.get(id);
    if (this._open && at !== undefined && isOpen(view)) {
      this._open = this._open.slice();
      this._open[at] = view;
    } else {
      this._open = null;
    }
  }

  private _sessions = new Map<string, ISessionView>();
  private _open: ISessionView[] | null = null;
  /** Where each session of `_open` is in it. */
  private _openAt = new Map<string, number>();
  private _money: IMoney = NO_MONEY;
  private _version = 0;
  private _offset = 0;
  // The push channel said it is down (dropped, or never opened) and has not opened since.
  private _pushDown = false;
  private _connection: Connection = 'loading';
  private _error: string | null = null;
  private _buffer: IChange[] = [];
  private _resyncing: Promise<void> | null = null;
  private _again = false;
  private _failures = 0;
  private _retry: ReturnType<typeof setTimeout> | null = null;
  private _changed = new Signal<this, void>(this);
  private _lastChanged: ReadonlySet<string> | null = null;
  private _watchers = new Map<string, Set<() => void>>();
}
