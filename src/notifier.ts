import { Notification } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';

import { attentionOf, IAttention, SeenKeys, VisibleTabs } from './attention';
import type { MonitorModel } from './model';
import { instanceRiskText } from './money';
import { isOpen } from './present';
import type { ISessionView } from './sessionStore';

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
    for (const view of store.sessions.values()) {
      if (!isOpen(view)) {
        this._withdraw(view.id); // its warnings no longer hold
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
        this._offer(attention);
      }
    }
    if (this._model.settings.notify.instance && this._tabs.shouldShow()) {
      for (const reading of store.money.instances) {
        const risk = instanceRiskText(reading, this._trans);
        if (risk) {
          // Once per instance, period and kind of risk.
          const key = `instance:${reading.instance ?? ''}:${reading.period_end ?? ''}:${reading.limit_reached ? 'reached' : 'risk'}`;
          void this._seen.claim(key).then(fresh => {
            if (fresh) {
              Notification.emit(risk, 'warning', {
                autoClose: false,
                data: { kind: 'instance' }
              });
            }
          });
        }
      }
    }
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
    const shownFit = this._fits.get(attention.key);
    if (shownFit !== undefined) {
      // The fit-check's numbers move as the queue drains: the notification says what holds now.
      if (shownFit.message !== attention.message) {
        shownFit.message = attention.message;
        Notification.update({ id: shownFit.id, message: attention.message });
      }
      return;
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
    if (attention.offerClose && this._model.get(attention.sessionId)) {
      actions.push({
        label: trans.__('Close now'),
        caption: trans.__('Asks before closing'),
        displayType: 'warn',
        callback: () => this._commands.close(attention.sessionId)
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
    if (attention.kind === 'fit') {
      this._fits.set(attention.key, { id, message: attention.message });
    }
    if (
      attention.kind !== 'closed' &&
      attention.kind !== 'job_failed' &&
      attention.kind !== 'budget'
    ) {
      const shown = this._shown.get(attention.sessionId) ?? [];
      shown.push(id);
      this._shown.set(attention.sessionId, shown);
    }
  }

  /** Dismiss the warnings shown about a session once they no longer hold (it closed). */
  private _withdraw(sessionId: string): void {
    for (const key of [...this._fits.keys()]) {
      if (key.startsWith(`${sessionId}:`)) {
        this._fits.delete(key);
      }
    }
    const shown = this._shown.get(sessionId);
    if (shown) {
      shown.forEach(id => Notification.dismiss(id));
      this._shown.delete(sessionId);
    }
  }

  /** A hidden tab's notification waits this long at most for the tab to be looked at. */
  static readonly DEFER_MS = 10 * 60_000;
  private _deferred = new Map<string, { attention: IAttention; at: number }>();
  private _previous = new Map<string, ISessionView>();
  private _shown = new Map<string, string[]>();
  /** Fit-check notifications shown by this tab: key -> notification id and message. */
  private _fits = new Map<string, { id: string; message: string }>();
  private _loaded = false;
  private _stopTick: () => void;
}
