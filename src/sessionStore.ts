import { ISignal, Signal } from '@lumino/signaling';

import { clockOffset } from './timer';

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
}

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
  jobs?: IJobView[];
  jobs_summary?: Record<string, number>;
  last_polled_at?: string | null;
  error?: { kind: string; message: string } | null;
  end_reason?: string | null;
  timeline?: ITransition[];
}

/** `GET session-monitor/api/sessions`. */
export interface ISnapshot {
  sessions: ISessionView[];
  server_time: string;
  version: number;
}

/** One pushed change (the `session_changes/v1` event's fields). */
export interface IChange {
  version: number;
  kind: 'added' | 'updated' | 'removed' | 'polled';
  session_id: string;
  session: ISessionView | null;
  /** For `polled`: sessions read from the service with nothing else changed, and when. */
  polled?: Record<string, string | null> | null;
}

export type Connection = 'loading' | 'live' | 'reconnecting' | 'error';

/**
 * One store per page: a snapshot from the REST API kept current by pushed changes.
 *
 * Every change carries the server's version; a change that skips one means something was missed
 * (a dropped connection, a hidden tab), so the store reloads the snapshot. Changes that arrive
 * while it reloads are kept and applied on top of it if they are newer.
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

  /** Reload the snapshot (at start, on reconnect, when the tab becomes visible, after a gap). */
  async resync(): Promise<void> {
    if (this._resyncing) {
      return this._resyncing;
    }
    this._buffer = [];
    this._resyncing = this._load().finally(() => {
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
    this._put(change);
    this._changed.emit();
  }

  /** The push channel dropped: say so until the next successful reload. */
  disconnected(): void {
    if (this._connection !== 'reconnecting') {
      this._connection = 'reconnecting';
      this._changed.emit();
    }
  }

  private async _load(): Promise<void> {
    let snapshot: ISnapshot;
    try {
      snapshot = await this._fetchSnapshot();
    } catch (error) {
      this._connection = 'error';
      this._error = (error as Error).message;
      this._changed.emit();
      return;
    }
    this._sessions = new Map(snapshot.sessions.map(s => [s.id, s]));
    this._version = snapshot.version;
    this._offset = clockOffset(snapshot.server_time, this._now());
    this._connection = 'live';
    this._error = null;
    const pending = this._buffer.sort((a, b) => a.version - b.version);
    this._buffer = [];
    for (const change of pending) {
      if (change.version === this._version + 1) {
        this._put(change);
      }
    }
    this._changed.emit();
  }

  private _put(change: IChange): void {
    if (change.kind === 'polled') {
      for (const [id, at] of Object.entries(change.polled ?? {})) {
        const known = this._sessions.get(id);
        if (known) {
          this._sessions.set(id, { ...known, last_polled_at: at });
        }
      }
    } else if (change.kind === 'removed' || change.session === null) {
      this._sessions.delete(change.session_id);
    } else {
      this._sessions.set(change.session_id, change.session);
    }
    this._version = change.version;
  }

  private _sessions = new Map<string, ISessionView>();
  private _version = 0;
  private _offset = 0;
  private _connection: Connection = 'loading';
  private _error: string | null = null;
  private _buffer: IChange[] = [];
  private _resyncing: Promise<void> | null = null;
  private _changed = new Signal<this, void>(this);
}
