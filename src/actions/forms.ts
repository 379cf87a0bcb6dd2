import type { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import { notebookName } from '../present';
import type { ISessionView } from '../store/sessionStore';

/** What the budget form returns. */
export interface IBudgetChoice {
  scope: 'session' | 'notebook';
  remove: boolean;
  body: Record<string, unknown> | null;
  error: string | null;
}

/**
 * The budget form of the "Budget…" dialog: a limit in minutes, hours or money, what to do when
 * it is used up, when to warn, and whether it counts this session or its notebook's sessions.
 */
export class BudgetForm extends Widget {
  constructor(
    view: ISessionView,
    hasRate: boolean,
    currency: string | null,
    trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-SessionMonitor-budgetForm');
    const existing = view.budget;
    const field = (label: string, control: HTMLElement) => {
      const row = document.createElement('label');
      row.className = 'jp-SessionMonitor-formRow';
      const text = document.createElement('span');
      text.textContent = label;
      row.append(text, control);
      this.node.appendChild(row);
    };
    const select = (options: [string, string][], value: string) => {
      const element = document.createElement('select');
      element.className = 'jp-mod-styled';
      for (const [key, label] of options) {
        const option = document.createElement('option');
        option.value = key;
        option.textContent = label;
        element.appendChild(option);
      }
      element.value = value;
      return element;
    };
    this._amount = document.createElement('input');
    this._amount.type = 'number';
    this._amount.min = '0';
    this._amount.step = 'any';
    this._amount.className = 'jp-mod-styled';
    this._amount.name = 'limit';
    const units: [string, string][] = [
      ['minutes', trans.__('minutes of billed time')],
      ['hours', trans.__('hours of billed time')],
      ['seconds', trans.__('seconds of billed time')]
    ];
    if (hasRate) {
      units.push(['money', currency ?? trans.__('money (at the rate)')]);
    }
    let unit = 'minutes';
    if (existing?.amount !== null && existing?.amount !== undefined) {
      this._amount.value = String(existing.amount);
      unit = 'money';
    } else if (existing?.seconds) {
      this._amount.value = String(existing.seconds / 60);
    } else {
      this._amount.value = '10';
    }
    this._unit = select(units, hasRate || unit !== 'money' ? unit : 'minutes');
    this._unit.name = 'unit';
    field(trans.__('Limit'), this._amount);
    field(trans.__('Unit'), this._unit);
    this._action = select(
      [
        ['notify', trans.__('Notify me only')],
        ['close', trans.__('Close the session (queued jobs still run)')],
        ['cancel', trans.__('Cancel the session (queued jobs are cancelled)')]
      ],
      existing?.action ?? 'notify'
    );
    this._action.name = 'action';
    field(trans.__('When it is used up'), this._action);
    this._threshold = document.createElement('input');
    this._threshold.type = 'number';
    this._threshold.min = '1';
    this._threshold.max = '100';
    this._threshold.className = 'jp-mod-styled';
    this._threshold.name = 'threshold';
    this._threshold.value = String(
      Math.round((existing?.threshold ?? 0.8) * 100)
    );
    field(trans.__('Warn at (% of the limit)'), this._threshold);
    const scopes: [string, string][] = [['session', trans.__('This session')]];
    if (view.notebook_path) {
      scopes.push([
        'notebook',
        trans.__('Every session of %1', notebookName(view.notebook_path))
      ]);
    }
    this._scope = select(scopes, existing?.scope ?? 'session');
    this._scope.name = 'scope';
    field(trans.__('Counts'), this._scope);
    const note = document.createElement('p');
    note.className = 'jp-SessionMonitor-muted';
    note.textContent = trans.__(
      'The Jupyter server enforces the budget on the billed time the service reports, with or without this page open. Billed time counts while the session is active, idle gaps included.'
    );
    this.node.appendChild(note);
    this._trans = trans;
  }

  getValue(): IBudgetChoice {
    const trans = this._trans;
    const scope = this._scope.value as 'session' | 'notebook';
    const limit = Number(this._amount.value);
    const threshold = Number(this._threshold.value);
    if (!Number.isFinite(limit) || limit <= 0) {
      return {
        scope,
        remove: false,
        body: null,
        error: trans.__('The limit must be a positive number.')
      };
    }
    if (!Number.isFinite(threshold) || threshold <= 0 || threshold > 100) {
      return {
        scope,
        remove: false,
        body: null,
        error: trans.__('Warn at must be between 1 and 100 %.')
      };
    }
    const factor = { seconds: 1, minutes: 60, hours: 3600 }[
      this._unit.value as 'seconds' | 'minutes' | 'hours'
    ];
    const size =
      this._unit.value === 'money'
        ? { amount: limit }
        : { seconds: limit * (factor ?? 60) };
    return {
      scope,
      remove: false,
      body: { ...size, action: this._action.value, threshold: threshold / 100 },
      error: null
    };
  }

  private _amount: HTMLInputElement;
  private _unit: HTMLSelectElement;
  private _action: HTMLSelectElement;
  private _threshold: HTMLInputElement;
  private _scope: HTMLSelectElement;
  private _trans: TranslationBundle;
}

/** The rate form: a price per billed second and a currency label. */
export class RateForm extends Widget {
  constructor(
    rate: number | null,
    currency: string | null,
    trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-SessionMonitor-budgetForm');
    const row = (label: string, input: HTMLInputElement) => {
      const element = document.createElement('label');
      element.className = 'jp-SessionMonitor-formRow';
      const text = document.createElement('span');
      text.textContent = label;
      element.append(text, input);
      this.node.appendChild(element);
    };
    this._rate = document.createElement('input');
    this._rate.type = 'number';
    this._rate.min = '0';
    this._rate.step = 'any';
    this._rate.name = 'rate';
    this._rate.className = 'jp-mod-styled';
    this._rate.value = rate === null ? '' : String(rate);
    this._currency = document.createElement('input');
    this._currency.name = 'currency';
    this._currency.maxLength = 8;
    this._currency.className = 'jp-mod-styled';
    this._currency.value = currency ?? '';
    row(trans.__('Price of one billed second'), this._rate);
    row(trans.__('Currency'), this._currency);
    const note = document.createElement('p');
    note.className = 'jp-SessionMonitor-muted';
    note.textContent = trans.__(
      'Your figure, from your plan or contract (the IBM Quantum pricing page and your account’s billing terms); the monitor never assumes one. Leave it empty to show billed time only. It is kept by the Jupyter server, which uses it for budgets in money.'
    );
    this.node.appendChild(note);
  }

  getValue(): { rate: number | null; currency: string | null } | null {
    const text = this._rate.value.trim();
    const rate = text === '' ? null : Number(text);
    if (rate !== null && (!Number.isFinite(rate) || rate < 0)) {
      return null;
    }
    return { rate, currency: this._currency.value.trim() || null };
  }

  private _rate: HTMLInputElement;
  private _currency: HTMLInputElement;
}
