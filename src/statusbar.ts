import type { TranslationBundle } from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import type { MonitorModel } from './store/model';
import { formatMoney, meterAt } from './money';
import { isOpen, soonestCloseSeconds } from './present';
import { formatCountdown } from './timer';

/** What the status-bar item says, as a pure function of the sessions and the time. */
export function statusSummary(
  model: Pick<MonitorModel, 'store' | 'settings'>,
  now: number
): {
  open: number;
  soonest: number | null;
  warn: boolean;
  cost: string | null;
  money: string | null;
} {
  let open = 0;
  let soonest: number | null = null;
  let cost: number | null = null;
  let currency: string | null = null;
  let budgetWarning = false;
  const offset = model.store.clockOffset;
  for (const view of model.store.sessions.values()) {
    if (!isOpen(view)) {
      continue;
    }
    open += 1;
    const meter = meterAt(view, now - offset);
    if (meter?.cost !== null && meter?.cost !== undefined) {
      cost = (cost ?? 0) + meter.cost;
      currency = view.billing?.currency ?? currency;
    }
    if (view.budget && (view.budget.warned || view.budget.reached)) {
      budgetWarning = true;
    }
    const left = soonestCloseSeconds(view, now, offset);
    if (left !== null && (soonest === null || left < soonest)) {
      soonest = left;
    }
  }
  const threshold = Math.max(0, ...model.settings.maxTtlWarnings);
  const atRisk = model.store.money.instances.some(
    reading => reading.at_risk || reading.limit_reached
  );
  return {
    open,
    soonest,
    warn: (soonest !== null && soonest <= threshold) || budgetWarning || atRisk,
    cost: cost === null ? null : formatMoney(cost, currency),
    // Why money asks for attention, for the tooltip.
    money: budgetWarning ? 'budget' : atRisk ? 'instance' : null
  };
}

/**
 * The status-bar item: open sessions and the soonest countdown to a close, in warning style under the
 * first threshold; a click opens the sidebar. Absent while no session is open.
 */
export class SessionStatusItem extends Widget {
  constructor(
    private readonly _model: MonitorModel,
    private readonly _trans: TranslationBundle,
    private readonly _open: () => void
  ) {
    super();
    this.addClass('jp-SessionMonitor-statusItem');
    this._button = document.createElement('button');
    this._button.type = 'button';
    this._button.className = 'jp-SessionMonitor-statusButton';
    this._button.addEventListener('click', () => this._open());
    this.node.appendChild(this._button);
    _model.store.changed.connect(this._update, this);
    _model.settingsChanged.connect(this._update, this);
    this._stopTick = _model.ticker.subscribe(() => this._update());
    this._update();
  }

  get active(): boolean {
    return this._active;
  }

  get activeChanged(): ISignal<this, void> {
    return this._activeChanged;
  }

  dispose(): void {
    this._stopTick();
    Signal.clearData(this);
    super.dispose();
  }

  private _update(): void {
    const trans = this._trans;
    const summary = statusSummary(this._model, Date.now());
    const active = this._model.settings.showStatusBar && summary.open > 0;
    if (active !== this._active) {
      this._active = active;
      this._activeChanged.emit();
    }
    if (!active) {
      return;
    }
    const count = trans._n('%1 session', '%1 sessions', summary.open);
    let text =
      summary.soonest === null
        ? count
        : trans.__(
            '%1 · closes in %2',
            count,
            formatCountdown(summary.soonest)
          );
    if (summary.cost !== null) {
      text += ` · ${summary.cost}`;
    }
    if (this._button.textContent !== text) {
      this._button.textContent = text;
    }
    this._button.classList.toggle('jp-mod-warning', summary.warn);
    let title =
      summary.soonest === null
        ? trans._n(
            '%1 open Qiskit Runtime session. Click to show it.',
            '%1 open Qiskit Runtime sessions. Click to show them.',
            summary.open
          )
        : trans._n(
            '%1 open Qiskit Runtime session; the service closes it in %2 (max TTL or no job). Click to show it.',
            '%1 open Qiskit Runtime sessions; the service closes the first in %2 (max TTL or no job). Click to show them.',
            summary.open,
            formatCountdown(summary.soonest)
          );
    const why =
      summary.money === 'budget'
        ? ' ' + trans.__('A budget is nearly or fully used.')
        : summary.money === 'instance'
          ? ' ' +
            trans.__(
              'The instance’s allowance could run out before the open sessions end.'
            )
          : '';
    title += why;
    if (this._button.title !== title) {
      this._button.title = title;
      this._button.setAttribute('aria-label', title);
    }
  }

  private _button: HTMLButtonElement;
  private _active = false;
  private _activeChanged = new Signal<this, void>(this);
  private _stopTick: () => void;
}
