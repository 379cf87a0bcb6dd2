import { Notification } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';

import {
  attentionOf,
  closing,
  IAttention,
  SeenKeys,
  VisibleTabs
} from './attention';
import type { MonitorModel } from './store/model';
import { instanceRiskText } from './money';
import { isOpen, shortId } from './present';
import type { ISessionView } from './store/sessionStore';

/** The kinds whose notification states something that holds for a while (kept true). */
const LIVE_KINDS = new Set(['max_ttl', 'idle', 'budget', 'fit']);

/** Watches the store and the ticker and raises JupyterLab notifications with actions. */
export class Notifier {
  constructor(
    private readonly _model: MonitorModel,
    private readonly _trans: TranslationBundle,
    private readonly _commands: {
      close: (sessionId: string) => void;
      reveal: (sessionId: string) => void;
    },
    private readonly _seen = new SeenKeys(),
    private readonly _tabs = new VisibleTabs()
  ) {
    this._snapshot();
    _model.store.changed.connect(this._onChange, this);
    // Thresholds and idleness are crossed with time, not with a change: check on the tick too.
    this._stopTick = _model.ticker.subscribe(() => {
      this._tabs.beat();
      this._check();
    });
  }

  dispose(): void {
    this._model.store.changed.disconnect(this._onChange, this);
    this._stopTick();
  }

  private _snapshot(): void {
    this._previous = new Map(this._model.store.sessions);
  }

  /** A change: check it against the sessions as they were, then remember them as they are. */
  private _onChange(): void {
    this._check();
    this._snapshot();
  }

  private _check(): void {
    const store = this._model.store;
    if (store.connection === 'loading') {
      return;
    }
    const now = Date.now();
    const firstLoad = !this._loaded;
    this._loaded = true;
    const holding = new Map<string, string>(); // what holds now: key -> its words now
    for (const view of store.sessions.values()) {
      if (!isOpen(view)) {
        this._withdraw(view.id); // its warnings no longer hold
      } else if (closing(view)) {
        this._withdraw(view.id, true); // what urged closing it is done
      }
      const previous = firstLoad ? undefined : this._previous.get(view.id);
      for (const attention of attentionOf(
        view,
        previous,
        now,
        store.clockOffset,
        this._model.settings,
        this._trans
      )) {
        holding.set(attention.key, attention.message);
        this._offer(attention);
      }
    }
    if (this._model.settings.notify.instance) {
      for (const reading of store.money.instances) {
        const risk = instanceRiskText(reading, this._trans);
        if (risk) {
          // Once per instance, period and kind of risk.
          const key = `instance:${reading.instance ?? ''}:${reading.period_end ?? ''}:${reading.limit_reached ? 'reached' : 'risk'}`;
          holding.set(key, risk);
          if (!this._live.has(key) && this._tabs.shouldShow()) {
            void this._seen.claim(key).then(fresh => {
              if (fresh) {
                const id = Notification.emit(risk, 'warning', {
                  autoClose: false,
                  data: { kind: 'instance' }
                });
                this._live.set(key, { id, message: risk });
              }
            });
          }
        }
      }
    }
    this._refreshLive(holding);
    if (this._deferred.size && this._tabs.shouldShow()) {
      // This tab is looked at now (or no tab is): what waited is shown if it still holds.
      const waiting = [...this._deferred.values()];
      this._deferred.clear();
      const stillOpen = (id: string) => {
        const view = store.sessions.get(id);
        return view !== undefined && isOpen(view);
      };
      for (const { attention, at } of waiting) {
        const holds =
          attention.kind === 'closed' ||
          attention.kind === 'job_failed' ||
          attention.kind === 'budget' ||
          stillOpen(attention.sessionId);
        if (holds && now - at < Notifier.DEFER_MS) {
          this._offer(attention);
        }
      }
    }
  }

  /**
   * Show it in this tab if the user looks at this tab (or at no tab); else keep it until this
   * tab is looked at: another tab that is visible shows it, and the claim makes it once only.
   */
  private _offer(attention: IAttention): void {
    if (this._live.has(attention.key)) {
      return; // shown here: _refreshLive keeps its words true
    }
    if (!this._tabs.shouldShow()) {
      if (!this._deferred.has(attention.key)) {
        this._deferred.set(attention.key, { attention, at: Date.now() });
      }
      return;
    }
    void this._seen.claim(attention.key).then(fresh => {
      if (fresh) {
        this._show(attention);
      }
    });
  }

  private _show(attention: IAttention): void {
    const trans = this._trans;
    const actions: Notification.IAction[] = [];
    const offersClose = Boolean(
      attention.offerClose && this._model.get(attention.sessionId)
    );
    if (offersClose) {
      actions.push({
        // Not "Close": beside the notification's own ×, it would read as dismissing it.
        label: trans.__('Close session…'),
        caption: trans.__('Asks before closing the Qiskit Runtime session'),
        displayType: 'warn',
        callback: () => this._closeNow(attention.sessionId)
      });
    }
    actions.push({
      label: trans.__('Show in sidebar'),
      callback: () => this._commands.reveal(attention.sessionId)
    });
    const id = Notification.emit(attention.message, attention.type, {
      autoClose: attention.type === 'info' ? 8000 : false,
      actions,
      data: { sessionId: attention.sessionId, kind: attention.kind }
    });
    if (LIVE_KINDS.has(attention.kind)) {
      this._live.set(attention.key, { id, message: attention.message });
    }
    if (
      attention.kind !== 'closed' &&
      attention.kind !== 'job_failed' &&
      attention.kind !== 'budget'
    ) {
      const shown = this._shown.get(attention.sessionId) ?? [];
      shown.push({ id, urgesClose: offersClose });
      this._shown.set(attention.sessionId, shown);
    }
  }

  /**
   * "Close now" in a notification written a while ago: the session may have closed since (a
   * budget closed it, its max TTL passed). Say so rather than open a dialog that can do nothing.
   */
  private _closeNow(sessionId: string): void {
    const view = this._model.store.sessions.get(sessionId);
    if (view && isOpen(view) && !closing(view)) {
      this._commands.close(sessionId);
      return;
    }
    Notification.info(
      view && isOpen(view)
        ? this._trans.__(
            'Session %1 is already closing: it accepts no new jobs. Nothing more to do here.',
            shortId(sessionId)
          )
        : this._trans.__(
            'Session %1 is already closed: there is nothing left to close.',
            shortId(sessionId)
          ),
      { autoClose: 8000 }
    );
  }

  /**
   * Notifications that state a figure or a condition (the max TTL's countdown, idleness, a
   * budget, the fit-check, the instance's allowance) say what holds now: their words are
   * updated as the figures move, and they are dismissed once their condition ends.
   */
  private _refreshLive(holding: Map<string, string>): void {
    for (const [key, shown] of [...this._live]) {
      const message = holding.get(key);
      if (message === undefined) {
        Notification.dismiss(shown.id);
        this._live.delete(key);
      } else if (message !== shown.message) {
        shown.message = message;
        Notification.update({ id: shown.id, message });
      }
    }
  }

  /**
   * Dismiss the warnings shown about a session once they no longer hold: all of them once it
   * closed; once it is closing (it accepts no more jobs), those that offered to close it (an
   * orphan, idle time: what they urged is done).
   */
  private _withdraw(sessionId: string, urgingClose = false): void {
    const shown = this._shown.get(sessionId);
    if (!shown) {
      return;
    }
    const gone = shown.filter(s => !urgingClose || s.urgesClose);
    gone.forEach(s => Notification.dismiss(s.id));
    const kept = shown.filter(s => !gone.includes(s));
    if (kept.length) {
      this._shown.set(sessionId, kept);
    } else {
      this._shown.delete(sessionId);
    }
  }

  /** A hidden tab's notification waits this long at most for the tab to be looked at. */
  static readonly DEFER_MS = 10 * 60_000;
  private _deferred = new Map<string, { attention: IAttention; at: number }>();
  private _previous = new Map<string, ISessionView>();
  private _shown = new Map<string, { id: string; urgesClose: boolean }[]>();
  /** Live notifications shown by this tab: key -> notification id and the words shown. */
  private _live = new Map<string, { id: string; message: string }>();
  private _loaded = false;
  private _stopTick: () => void;
}
