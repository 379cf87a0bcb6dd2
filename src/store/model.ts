import { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

import { MonitorRequestError, requestAPI } from '../api';
import { PushChannel } from './push';
import { ISessionView, ISnapshot, SessionStore } from './sessionStore';
import { Ticker } from '../ticker';

/** What `GET sessions/{id}/receipt` answers. */
export interface IReceiptAnswer {
  receipt: {
    session_id: string;
    final: boolean;
    notebook_path: string | null;
    billed_seconds: number | null;
    cost: number | null;
    currency: string | null;
  };
  text: string;
  markdown: string;
}

/** What `POST sessions/close-all` answers. */
export interface ICloseAllResult {
  action: 'close' | 'cancel';
  closed: string[];
  failed: { id: string; kind: string; message: string }[];
}

/** How often a visible page tells the server it is looking (the server counts 2 minutes). */
export const VIEWER_HEARTBEAT_MS = 30_000;

/** The user's settings (schema/plugin.json), with their defaults. */
export interface IMonitorSettings {
  /** Warn this many seconds before a session reaches its max TTL (one notification each). */
  maxTtlWarnings: number[];
  /** Warn when an active session has had no job for this many seconds (0: never). */
  idleWarningSeconds: number;
  /** How long closed sessions stay under "Recently closed", in minutes. */
  recentlyClosedMinutes: number;
  /** Which notifications to show. */
  notify: {
    maxTtl: boolean;
    inactive: boolean;
    idle: boolean;
    jobFailed: boolean;
    closed: boolean;
    orphaned: boolean;
    budget: boolean;
    fit: boolean;
    instance: boolean;
  };
  showStatusBar: boolean;
  showDetails: boolean;
  showTimeline: boolean;
}

export const DEFAULT_SETTINGS: IMonitorSettings = {
  maxTtlWarnings: [300, 60],
  idleWarningSeconds: 30,
  recentlyClosedMinutes: 60,
  notify: {
    maxTtl: true,
    inactive: true,
    idle: true,
    jobFailed: true,
    closed: true,
    orphaned: true,
    budget: true,
    fit: true,
    instance: true
  },
  showStatusBar: true,
  showDetails: true,
  showTimeline: true
};

/** Merge what the settings registry holds over the defaults, ignoring malformed values. */
export function settingsFrom(
  composite: Partial<Record<string, unknown>>
): IMonitorSettings {
  const number = (value: unknown, fallback: number) =>
    typeof value === 'number' && Number.isFinite(value) && value >= 0
      ? value
      : fallback;
  const warnings = Array.isArray(composite.maxTtlWarnings)
    ? composite.maxTtlWarnings.filter(
        (value): value is number => typeof value === 'number' && value > 0
      )
    : DEFAULT_SETTINGS.maxTtlWarnings;
  const notify = (composite.notify ?? {}) as Record<string, unknown>;
  const flag = (value: unknown, fallback: boolean) =>
    typeof value === 'boolean' ? value : fallback;
  return {
    maxTtlWarnings: [...warnings].sort((a, b) => b - a),
    idleWarningSeconds: number(
      composite.idleWarningSeconds,
      DEFAULT_SETTINGS.idleWarningSeconds
    ),
    recentlyClosedMinutes: number(
      composite.recentlyClosedMinutes,
      DEFAULT_SETTINGS.recentlyClosedMinutes
    ),
    notify: Object.fromEntries(
      Object.entries(DEFAULT_SETTINGS.notify).map(([key, fallback]) => [
        key,
        flag(notify[key], fallback)
      ])
    ) as unknown as IMonitorSettings['notify'],
    showStatusBar: flag(
      composite.showStatusBar,
      DEFAULT_SETTINGS.showStatusBar
    ),
    showDetails: flag(composite.showDetails, DEFAULT_SETTINGS.showDetails),
    showTimeline: flag(composite.showTimeline, DEFAULT_SETTINGS.showTimeline)
  };
}

/**
 * Everything the page knows about sessions, shared by the sidebar, the status bar, the
 * notifications and the notebook widgets: one store, one push channel, one ticker.
 */
export class MonitorModel {
  constructor(
    private readonly _serverSettings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {
    this.store = new SessionStore(() =>
      requestAPI<ISnapshot>('sessions', {}, this._serverSettings)
    );
    this._push = new PushChannel(
      {
        // Changes made before the socket subscribed are only in a snapshot asked for after it.
        opened: () => void this.store.connected(),
        closed: () => this.store.disconnected(),
        change: change => this.store.apply(change)
      },
      this._serverSettings
    );
  }

  readonly store: SessionStore;
  readonly ticker = new Ticker();

  get settings(): IMonitorSettings {
    return this._settings;
  }

  set settings(value: IMonitorSettings) {
    this._settings = value;
    this._settingsChanged.emit(value);
  }

  get settingsChanged(): ISignal<this, IMonitorSettings> {
    return this._settingsChanged;
  }

  /** Someone asked to see one session (a notification's "Show in sidebar"). */
  get revealRequested(): ISignal<this, string> {
    return this._revealRequested;
  }

  start(): void {
    void this.store.resync();
    this._push.start();
    document.addEventListener('visibilitychange', this._onVisibility);
    this._sayVisible();
    this._viewerTimer = setInterval(this._sayVisible, VIEWER_HEARTBEAT_MS);
  }

  dispose(): void {
    this._push.dispose();
    this.store.dispose();
    this.ticker.dispose();
    document.removeEventListener('visibilitychange', this._onVisibility);
    if (this._viewerTimer !== null) {
      clearInterval(this._viewerTimer);
      this._viewerTimer = null;
    }
  }

  /** Reload now (Retry). */
  async refresh(): Promise<void> {
    this._push.reconnectNow();
    await this.store.resync();
  }

  reveal(sessionId: string): void {
    this._revealRequested.emit(sessionId);
  }

  get(sessionId: string): ISessionView | undefined {
    return this.store.sessions.get(sessionId);
  }

  /** `GET sessions/{id}`: the view with its timeline. */
  async fetchOne(sessionId: string): Promise<ISessionView> {
    return requestAPI<ISessionView>(
      `sessions/${encodeURIComponent(sessionId)}`,
      {},
      this._serverSettings
    );
  }

  /**
   * `GET sessions/{id}?fresh=true`: the server reads the service now (a confirmation is about
   * to be shown) and answers with what it found.
   */
  async fetchFresh(sessionId: string): Promise<ISessionView> {
    return requestAPI<ISessionView>(
      `sessions/${encodeURIComponent(sessionId)}?fresh=true`,
      {},
      this._serverSettings
    );
  }

  /** `GET sessions/{id}/timeline`: the view with its transitions and its jobs' times. */
  async fetchTimeline(sessionId: string): Promise<ISessionView> {
    return requestAPI<ISessionView>(
      `sessions/${encodeURIComponent(sessionId)}/timeline`,
      {},
      this._serverSettings
    );
  }

  /** `GET sessions/{id}/receipt`. */
  async fetchReceipt(sessionId: string): Promise<IReceiptAnswer> {
    return requestAPI<IReceiptAnswer>(
      `sessions/${encodeURIComponent(sessionId)}/receipt`,
      {},
      this._serverSettings
    );
  }

  /** `GET history?format=csv`: every session of the registry, as a spreadsheet. */
  async fetchHistoryCsv(): Promise<string> {
    return requestAPI<string>(
      'history?format=csv',
      {},
      this._serverSettings,
      'text'
    );
  }

  /** `DELETE sessions/{id}`: stop tracking (the session itself is not touched). */
  async forget(sessionId: string): Promise<void> {
    await requestAPI<void>(
      `sessions/${encodeURIComponent(sessionId)}`,
      { method: 'DELETE' },
      this._serverSettings
    );
  }

  async track(sessionId: string): Promise<ISessionView> {
    return this._send<ISessionView>('sessions', { session_id: sessionId });
  }

  async act(sessionId: string, action: 'close' | 'cancel'): Promise<void> {
    await this._send(`sessions/${encodeURIComponent(sessionId)}/${action}`);
  }

  /** `PUT sessions/{id}/budget`, or for its notebook `PUT notebook-budgets`. */
  async setBudget(
    scope: 'session' | 'notebook',
    target: string,
    budget: Record<string, unknown>
  ): Promise<void> {
    const [endpoint, body] =
      scope === 'session'
        ? [`sessions/${encodeURIComponent(target)}/budget`, budget]
        : ['notebook-budgets', { ...budget, notebook_path: target }];
    await requestAPI<unknown>(
      endpoint,
      { method: 'PUT', body: JSON.stringify(body) },
      this._serverSettings
    );
  }

  async removeBudget(
    scope: 'session' | 'notebook',
    target: string
  ): Promise<void> {
    const endpoint =
      scope === 'session'
        ? `sessions/${encodeURIComponent(target)}/budget`
        : `notebook-budgets?notebook_path=${encodeURIComponent(target)}`;
    await requestAPI<void>(
      endpoint,
      { method: 'DELETE' },
      this._serverSettings
    );
  }

  /** `PUT billing`: the rate per billed second (null: none) and its currency label. */
  async setRate(rate: number | null, currency: string | null): Promise<void> {
    await requestAPI<unknown>(
      'billing',
      {
        method: 'PUT',
        body: JSON.stringify({ rate_per_second: rate, currency })
      },
      this._serverSettings
    );
  }

  /** `POST sessions/close-all`, for the sessions the confirmation listed (never others). */
  async closeAll(
    action: 'close' | 'cancel',
    sessionIds: string[]
  ): Promise<ICloseAllResult> {
    return this._send<ICloseAllResult>('sessions/close-all', {
      action,
      session_ids: sessionIds
    });
  }

  async cancelJob(jobId: string): Promise<void> {
    await this._send(`jobs/${encodeURIComponent(jobId)}/cancel`);
  }

  private async _send<T>(endpoint: string, body?: unknown): Promise<T> {
    return requestAPI<T>(
      endpoint,
      {
        method: 'POST',
        body: body === undefined ? undefined : JSON.stringify(body)
      },
      this._serverSettings
    );
  }

  /** Tell the server a page is looking (its polls keep full pace); only while visible. */
  private _sayVisible = (): void => {
    if (document.visibilityState !== 'visible') {
      return;
    }
    void requestAPI<void>(
      'viewers',
      { method: 'POST' },
      this._serverSettings
    ).catch(() => undefined); // the snapshot's own errors already say what is wrong
  };

  private _onVisibility = (): void => {
    if (document.visibilityState === 'visible') {
      this._sayVisible();
      // A hidden tab may have been throttled or lost its socket: start from the truth.
      this._push.reconnectNow();
      void this.store.resync();
    }
  };

  private _push: PushChannel;
  private _viewerTimer: ReturnType<typeof setInterval> | null = null;
  private _settings: IMonitorSettings = DEFAULT_SETTINGS;
  private _settingsChanged = new Signal<this, IMonitorSettings>(this);
  private _revealRequested = new Signal<this, string>(this);
}

export { MonitorRequestError };
