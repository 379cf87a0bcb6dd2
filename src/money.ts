import type { TranslationBundle } from '@jupyterlab/translation';

import { clockTime, formatDuration } from './present';
import type {
  IBilling,
  IBudgetView,
  IInstanceUsage,
  ISessionView
} from './store/sessionStore';
import { parseTime } from './timer';

/**
 * Money as the page shows it: pure functions of the server's views (no I/O), so that the
 * sidebar, the notebook widget and the notifications say the same thing.
 *
 * The server's figures are as of the session's last read (`last_polled_at`). While the service
 * bills a session (`billing.accruing`), the page adds the seconds since, never beyond
 * `billing.accrues_until` (the moment the service stops billing by itself), so a live figure is
 * never more than the service can have billed.
 */

export interface IMeter {
  billed: number;
  idle: number;
  cost: number | null;
}

/** Billed seconds (and idle, and cost) of one session at `nowServer` (ms, server clock). */
export function meterAt(view: ISessionView, nowServer: number): IMeter | null {
  const billing = view.billing;
  if (!billing) {
    return null;
  }
  let extra = 0;
  const { asOf, until } = billingTimes(view, billing);
  if (billing.accruing && asOf !== null) {
    const end = until === null ? nowServer : Math.min(nowServer, until);
    extra = Math.max(0, (end - asOf) / 1000);
  }
  const billed = billing.billed_seconds + extra;
  const idle =
    billing.billed_idle_seconds + (billing.idle_accruing ? extra : 0);
  const cost =
    billing.rate_per_second === null ? null : billed * billing.rate_per_second;
  return { billed, idle, cost };
}

/**
 * A view's billing times as ms, read once per view: a view is never changed (a change brings a
 * new one), and the header's total reads every open session's at every change and every second.
 */
function billingTimes(
  view: ISessionView,
  billing: IBilling
): { asOf: number | null; until: number | null } {
  let times = BILLING_TIMES.get(view);
  if (!times) {
    times = {
      asOf: parseTime(view.last_polled_at),
      until: parseTime(billing.accrues_until)
    };
    BILLING_TIMES.set(view, times);
  }
  return times;
}

const BILLING_TIMES = new WeakMap<
  ISessionView,
  { asOf: number | null; until: number | null }
>();

/**
 * The page's language for numbers (JupyterLab's, set once at activation): "1,850.00" in English,
 * "1.850,00" in German. Undefined: the browser's.
 */
let numberLanguage: string | undefined;

export function setMoneyLanguage(code: string | undefined): void {
  numberLanguage = code;
  try {
    new Intl.NumberFormat(code);
  } catch {
    numberLanguage = undefined;
  }
  FORMATS.clear();
}

interface ICurrencyFormats {
  digits: number;
  amount: Intl.NumberFormat;
  rate: Intl.NumberFormat;
}

const FORMATS = new Map<string, ICurrencyFormats>();

/**
 * The decimals a currency is written with (its minor unit as the browser's locale data gives it:
 * 2 for USD, 0 for JPY, 3 for KWD), or 2 for a label that is no currency code ("credits").
 * `jupyter_session_monitor/protocol.py` keeps the same table for the kernel and the receipts.
 */
export function currencyDigits(currency: string | null): number {
  return formatsOf(currency).digits;
}

function formatsOf(currency: string | null): ICurrencyFormats {
  const key = currency ?? '';
  let formats = FORMATS.get(key);
  if (!formats) {
    let digits = 2;
    if (currency && /^[A-Za-z]{3}$/.test(currency)) {
      try {
        digits =
          new Intl.NumberFormat('en', {
            style: 'currency',
            currency
          }).resolvedOptions().maximumFractionDigits ?? 2;
      } catch {
        digits = 2;
      }
    }
    formats = {
      digits,
      amount: new Intl.NumberFormat(numberLanguage, {
        minimumFractionDigits: digits,
        maximumFractionDigits: digits
      }),
      // A price per second is often below the currency's smallest unit: up to 6 decimals.
      rate: new Intl.NumberFormat(numberLanguage, {
        minimumFractionDigits: digits,
        maximumFractionDigits: Math.max(digits, 6)
      })
    };
    FORMATS.set(key, formats);
  }
  return formats;
}

function labelled(text: string, currency: string | null): string {
  return currency ? `${text} ${currency}` : text;
}

/**
 * "1,850.00 USD" (the currency's decimals, the page's digit grouping), "12 JPY", or the number
 * alone with no currency label. An amount above zero too small to show says so: "< 0.01 USD".
 */
export function formatMoney(amount: number, currency: string | null): string {
  const formats = formatsOf(currency);
  const smallest = 10 ** -formats.digits;
  if (amount > 0 && amount < smallest / 2) {
    return labelled(`< ${formats.amount.format(smallest)}`, currency);
  }
  // No "-0.00" for a figure that rounds to nothing.
  const shown = Math.abs(amount) < smallest / 2 ? 0 : amount;
  return labelled(formats.amount.format(shown), currency);
}

/** A price per billed second: "1.60 USD", "0.0267 USD" (never rounded to the currency's unit). */
export function formatRate(rate: number, currency: string | null): string {
  return labelled(formatsOf(currency).rate.format(rate), currency);
}

/** "billed 1 min 05 s (60 s idle) · 0.27 USD". */
export function meterText(
  meter: IMeter,
  billing: IBilling,
  trans: TranslationBundle
): string {
  const parts = [trans.__('billed %1', formatDuration(meter.billed, trans))];
  if (meter.idle >= 1) {
    parts[0] += ' ' + trans.__('(%1 idle)', formatDuration(meter.idle, trans));
  }
  if (meter.cost !== null) {
    parts.push(formatMoney(meter.cost, billing.currency));
  }
  return parts.join(' · ');
}

/** "up to 8 h 00 min (900.00 USD) if left open until max TTL", for open sessions only. */
export function worstCaseText(
  view: ISessionView,
  meter: IMeter,
  trans: TranslationBundle
): string | null {
  const billing = view.billing;
  if (!billing || view.state === 'closed' || view.not_found) {
    return null;
  }
  if (billing.max_billed_seconds - meter.billed < 1) {
    return null;
  }
  const money =
    billing.max_cost === null
      ? ''
      : ` (${formatMoney(billing.max_cost, billing.currency)})`;
  if (billing.max_billed_until === 'drain') {
    return trans.__(
      'up to %1%2: it accepts no more jobs and ends when its queue has run',
      formatDuration(billing.max_billed_seconds, trans),
      money
    );
  }
  return trans.__(
    'up to %1%2 if left open until its max TTL',
    formatDuration(billing.max_billed_seconds, trans),
    money
  );
}

/** The fit-check as a sentence, or null when there is nothing to say (or no basis). */
export function fitText(
  view: ISessionView,
  trans: TranslationBundle
): string | null {
  const fit = view.fit;
  if (!fit || fit.basis === null || !fit.expected_to_fail) {
    return null;
  }
  const when = fit.max_ttl_at ? clockTime(fit.max_ttl_at) : trans.__('max TTL');
  const sentence = fit.lower_bound
    ? trans.__(
        'At least %1 of %2 queued jobs will not start before the max TTL (%3) and will fail.',
        fit.expected_to_fail,
        fit.queued,
        when
      )
    : trans.__(
        '≈ %1 of %2 queued jobs will not start before the max TTL (%3) and will fail.',
        fit.expected_to_fail,
        fit.queued,
        when
      );
  // The max TTL counts wall-clock time; the service's estimates and a job's usage are quantum
  // seconds, which a job's time in the session exceeds.
  const basis =
    fit.basis === 'wall_clock'
      ? trans.__(
          '(from the wall-clock run times seen so far in this session; more fail if later jobs run longer)'
        )
      : fit.basis === 'service_estimate'
        ? trans.__(
            '(from the service’s run-time estimates, in quantum seconds: jobs hold the session longer, so more may fail)'
          )
        : trans.__(
            '(from the quantum seconds of this session’s finished jobs: jobs hold the session longer, so more may fail)'
          );
  return `${sentence} ${basis}`;
}

/** "Budget 10 min 00 s, then close: 6 min 40 s used (67 %)". */
export function budgetText(
  budget: IBudgetView,
  meterSeconds: number | null,
  trans: TranslationBundle
): string {
  const size =
    budget.seconds !== null
      ? formatDuration(budget.seconds, trans)
      : formatMoney(budget.amount ?? 0, budget.currency);
  const action = {
    notify: trans.__('notify'),
    close: trans.__('close'),
    cancel: trans.__('cancel')
  }[budget.action];
  const scope =
    budget.scope === 'notebook'
      ? trans.__('Notebook budget %1, then %2', size, action)
      : trans.__('Budget %1, then %2', size, action);
  if (budget.problem) {
    return `${scope}: ${budget.problem}`;
  }
  const spent =
    budget.scope === 'session' && meterSeconds !== null
      ? meterSeconds
      : budget.spent_seconds;
  const share =
    budget.limit_seconds && budget.limit_seconds > 0
      ? Math.min(999, Math.round((100 * spent) / budget.limit_seconds))
      : null;
  const used =
    budget.amount !== null && budget.limit_seconds && budget.currency !== null
      ? formatMoney(
          (spent / budget.limit_seconds) * budget.amount,
          budget.currency
        )
      : formatDuration(spent, trans);
  let text = trans.__('%1: %2 used', scope, used);
  if (share !== null) {
    text += ` (${share} %)`;
  }
  const elsewhere = budget.elsewhere_session_ids?.length ?? 0;
  if (elsewhere > 0) {
    text +=
      ' ' +
      trans._n(
        '(counts %1 session another Jupyter server monitors)',
        '(counts %1 sessions other Jupyter servers monitor)',
        elsewhere
      );
  }
  if (budget.reached) {
    // What was done, in words: not only "used up" (#26 item 7).
    const outcome = budget.outcome;
    let done: string;
    if (outcome) {
      done =
        budget.action === 'close' && outcome.startsWith('closed ')
          ? trans.__('used up: %1; queued jobs still run', outcome)
          : trans.__('used up: %1', outcome);
    } else if (budget.action === 'close') {
      done = trans.__('used up: closing it');
    } else if (budget.action === 'cancel') {
      done = trans.__('used up: cancelling it');
    } else {
      done = trans.__('used up');
    }
    text += ' — ' + done;
  }
  return text;
}

/** "Instance: 412 of 600 min used this period; 188 min left (as of 11:02)". */
export function instanceText(
  reading: IInstanceUsage,
  trans: TranslationBundle
): string {
  const name = reading.account.name ?? trans.__('default account');
  if (reading.consumed_seconds === null) {
    return reading.error
      ? trans.__(
          'Instance (%1): could not be read: %2',
          name,
          reading.error.message
        )
      : trans.__('Instance (%1): not read yet', name);
  }
  if (reading.limit_seconds === null) {
    // The service's figure as of its reading (read every few minutes and after a close): said
    // so, or it reads as less than its own open sessions have been billed since.
    return trans.__(
      'Instance (%1): %2 used this period as of %3 (no limit reported)',
      name,
      formatDuration(reading.consumed_seconds, trans),
      clockTime(reading.as_of)
    );
  }
  const left =
    reading.projected_remaining_seconds ?? reading.remaining_seconds ?? 0;
  return trans.__(
    'Instance (%1): %2 of %3 used this period; %4 left (read at %5)',
    name,
    formatDuration(reading.consumed_seconds, trans),
    formatDuration(reading.limit_seconds, trans),
    formatDuration(left, trans),
    clockTime(reading.as_of)
  );
}

/**
 * The reading in one line, the figure first and the account's name last (it yields to the
 * ellipsis): "Instance: 3 min 08 s left of 10 min 00 s (lab)". The whole is `instanceText`.
 */
export function instanceSummary(
  reading: IInstanceUsage,
  trans: TranslationBundle
): string {
  const name = reading.account.name ?? trans.__('default account');
  if (reading.consumed_seconds === null) {
    return reading.error
      ? trans.__('Instance: could not be read (%1)', name)
      : trans.__('Instance: not read yet (%1)', name);
  }
  if (reading.limit_seconds === null) {
    return trans.__(
      'Instance: %1 used as of %2 (%3)',
      formatDuration(reading.consumed_seconds, trans),
      clockTime(reading.as_of),
      name
    );
  }
  if (reading.limit_reached) {
    return trans.__('Instance: allowance used up (%1)', name);
  }
  return trans.__(
    'Instance: %1 left of %2 (%3)',
    formatDuration(
      reading.projected_remaining_seconds ?? reading.remaining_seconds ?? 0,
      trans
    ),
    formatDuration(reading.limit_seconds, trans),
    name
  );
}

/** Said before it happens: the open sessions could use more than the instance has left. */
export function instanceRiskText(
  reading: IInstanceUsage,
  trans: TranslationBundle
): string | null {
  if (reading.limit_reached) {
    return trans.__(
      'The instance has used its allowance for this period: jobs wait in the queue until time is made available.'
    );
  }
  if (!reading.at_risk) {
    return null;
  }
  return trans.__(
    'Left open until their max TTL, the open sessions could be billed %1, more than the %2 left on the instance.',
    formatDuration(reading.open_worst_case_seconds, trans),
    formatDuration(
      reading.projected_remaining_seconds ?? reading.remaining_seconds ?? 0,
      trans
    )
  );
}

/**
 * What several sessions (a notebook group, all open sessions) have been billed, read in one pass:
 * the sum for those the service bills no more, which the clock does not change, and the sessions
 * it still bills, to meter at each moment (`meterOfTotal`).
 */
export interface ITotal {
  settled: IMeter | null;
  accruing: ISessionView[];
  /** The first currency among their billings. */
  currency: string | null;
}

export function totalOf(views: Iterable<ISessionView>): ITotal {
  const sum = new MeterSum();
  const accruing: ISessionView[] = [];
  let currency: string | null = null;
  for (const view of views) {
    currency ||= view.billing?.currency ?? null;
    if (view.billing?.accruing) {
      accruing.push(view);
    } else {
      sum.add(meterAt(view, 0)); // billed no more: the same at any moment
    }
  }
  return { settled: sum.meter(), accruing, currency };
}

/** The total at `nowServer` (ms on the server's clock); null when none of them is billed. */
export function meterOfTotal(total: ITotal, nowServer: number): IMeter | null {
  const sum = new MeterSum();
  sum.add(total.settled);
  for (const view of total.accruing) {
    sum.add(meterAt(view, nowServer));
  }
  return sum.meter();
}

class MeterSum {
  add(meter: IMeter | null): void {
    if (!meter) {
      return;
    }
    this._any = true;
    this._billed += meter.billed;
    this._idle += meter.idle;
    if (meter.cost !== null) {
      this._cost = (this._cost ?? 0) + meter.cost;
    }
  }

  meter(): IMeter | null {
    return this._any
      ? { billed: this._billed, idle: this._idle, cost: this._cost }
      : null;
  }

  private _any = false;
  private _billed = 0;
  private _idle = 0;
  private _cost: number | null = null;
}
