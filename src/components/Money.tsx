import type { TranslationBundle } from '@jupyterlab/translation';
import { caretDownIcon, caretRightIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import type { MonitorModel } from '../store/model';
import {
  budgetText,
  fitText,
  formatMoney,
  formatRate,
  instanceRiskText,
  instanceSummary,
  instanceText,
  meterAt,
  meterOfTotal,
  meterText,
  totalOf,
  worstCaseText
} from '../money';
import { formatDuration } from '../present';
import type { IInstanceUsage, ISessionView } from '../store/sessionStore';
import { Ticker, useNow, useOnScreen } from '../ticker';

interface ILiveProps {
  view: ISessionView;
  ticker: Ticker;
  /** Milliseconds this browser's clock is ahead of the server's. */
  offset: number;
  trans: TranslationBundle;
}

/** What the session has been billed, live while the service bills it; the worst case. */
export function BillingLine(props: ILiveProps): JSX.Element | null {
  const { view, trans } = props;
  const ref = React.useRef<HTMLDivElement>(null);
  const live = Boolean(view.billing?.accruing);
  const now = useNow(props.ticker, useOnScreen(ref) && live);
  const meter = meterAt(view, now - props.offset);
  if (!meter || !view.billing) {
    return null;
  }
  const worst = worstCaseText(view, meter, trans);
  return (
    <div ref={ref} className="jp-SessionMonitor-billing" data-testid="billing">
      <span>{meterText(meter, view.billing, trans)}</span>
      {worst && <span className="jp-SessionMonitor-muted"> · {worst}</span>}
    </div>
  );
}

/** Queued jobs that will not start before the max TTL (nothing when there is no basis). */
export function FitLine(props: {
  view: ISessionView;
  trans: TranslationBundle;
}): JSX.Element | null {
  const text = fitText(props.view, props.trans);
  if (!text) {
    return null;
  }
  return (
    <div className="jp-SessionMonitor-fit" data-testid="fit" role="note">
      {text}
    </div>
  );
}

/** The session's budget (its own, or its notebook's) and what it has used. */
export function BudgetLine(props: ILiveProps): JSX.Element | null {
  const { view, trans } = props;
  const ref = React.useRef<HTMLDivElement>(null);
  const budget = view.budget;
  const live = Boolean(budget && !budget.reached && view.billing?.accruing);
  const now = useNow(props.ticker, useOnScreen(ref) && live);
  if (!budget) {
    return null;
  }
  const meter = meterAt(view, now - props.offset);
  const state = budget.reached ? 'reached' : budget.warned ? 'warned' : 'ok';
  return (
    <div
      ref={ref}
      className={`jp-SessionMonitor-budget jp-mod-${state}`}
      data-testid="budget"
      data-state={state}
    >
      {budgetText(budget, meter?.billed ?? null, trans)}
    </div>
  );
}

/** A group's (or the list's) live billed total, for the group header. */
export function TotalBilled(props: {
  views: readonly ISessionView[];
  ticker: Ticker;
  offset: number;
  trans: TranslationBundle;
  label?: string;
}): JSX.Element | null {
  const { views, trans } = props;
  const ref = React.useRef<HTMLSpanElement>(null);
  // Read once per list of views; each tick meters only the sessions still billed.
  const sum = React.useMemo(() => totalOf(views), [views]);
  const live = sum.accruing.length > 0;
  const now = useNow(props.ticker, useOnScreen(ref) && live);
  const total = meterOfTotal(sum, now - props.offset);
  if (!total || total.billed < 0.05) {
    return null;
  }
  const text =
    formatDuration(total.billed, trans) +
    (total.cost === null ? '' : ` · ${formatMoney(total.cost, sum.currency)}`);
  return (
    <span
      ref={ref}
      className="jp-SessionMonitor-total"
      title={props.label ?? trans.__('Billed so far')}
      data-testid="total-billed"
    >
      {text}
    </span>
  );
}

/**
 * One instance's allowance in one line ("Instance (lab): 3 min 08 s left of 10 min"), which
 * expands to the whole reading; a warning that the open sessions could use it up stays in view.
 */
function InstanceLine(props: {
  reading: IInstanceUsage;
  trans: TranslationBundle;
}): JSX.Element {
  const { reading, trans } = props;
  const [open, setOpen] = React.useState(false);
  const full = instanceText(reading, trans);
  const risk = instanceRiskText(reading, trans);
  const detailsId = React.useId();
  return (
    <div
      className={'jp-SessionMonitor-instance' + (risk ? ' jp-mod-warned' : '')}
      data-testid="instance"
    >
      <button
        type="button"
        className="jp-SessionMonitor-instanceToggle"
        aria-expanded={open}
        aria-controls={detailsId}
        title={full}
        onClick={() => setOpen(!open)}
      >
        {open ? CARET_DOWN : CARET_RIGHT}
        <span className="jp-SessionMonitor-instanceSummary">
          {instanceSummary(reading, trans)}
        </span>
      </button>
      <div id={detailsId} data-testid="instance-details" hidden={!open}>
        {full}
      </div>
      {risk && (
        <div
          className="jp-SessionMonitor-risk"
          role="alert"
          data-testid="instance-risk"
        >
          {risk}
        </div>
      )}
    </div>
  );
}

const CARET_RIGHT = <caretRightIcon.react tag="span" elementSize="small" />;
const CARET_DOWN = <caretDownIcon.react tag="span" elementSize="small" />;

/**
 * The top of the sidebar: each instance's allowance (and a warning before it can run out),
 * what the open sessions have been billed, the rate, and the actions on all sessions. Renders
 * again when the money, whether any session is open, or the day changes; what the open sessions
 * have been billed, at every change to them (`OpenBilled`).
 */
export function MoneyHeader(props: {
  model: MonitorModel;
  trans: TranslationBundle;
  onSetRate: () => void;
  onCloseAll: () => void;
  onExport: () => void;
}): JSX.Element | null {
  const { model, trans } = props;
  const store = model.store;
  const subscribe = React.useCallback(
    (changed: () => void) => {
      store.changed.connect(changed);
      return () => void store.changed.disconnect(changed);
    },
    [store]
  );
  const money = React.useSyncExternalStore(subscribe, () => store.money);
  const anyOpen = React.useSyncExternalStore(
    subscribe,
    () => store.open.length > 0
  );
  // An instance's "read at" time gains its date once that day is over.
  React.useSyncExternalStore(subscribe, () => new Date().toDateString());
  const rate = money.rate;
  return (
    <div className="jp-SessionMonitor-money" data-testid="money-header">
      {money.instances.map(reading => (
        <InstanceLine
          key={`${reading.account.name ?? ''}|${reading.instance ?? ''}`}
          reading={reading}
          trans={trans}
        />
      ))}
      <div className="jp-SessionMonitor-moneyRow">
        {anyOpen && (
          <OpenBilled model={model} subscribe={subscribe} trans={trans} />
        )}
        <button
          type="button"
          className="jp-SessionMonitor-linkButton"
          onClick={props.onSetRate}
          title={trans.__(
            'The price of one billed second, to show costs and set budgets in money'
          )}
        >
          {rate.rate_per_second === null
            ? trans.__('Set a rate…')
            : trans.__(
                'Rate %1 per s…',
                formatRate(rate.rate_per_second, rate.currency)
              )}
        </button>
        <button
          type="button"
          className="jp-SessionMonitor-linkButton"
          onClick={props.onExport}
          title={trans.__(
            'Every session of this server with its billed time and cost, as a CSV file'
          )}
        >
          {trans.__('Export history (CSV)')}
        </button>
        {anyOpen && (
          <button
            type="button"
            className="jp-SessionMonitor-linkButton jp-SessionMonitor-danger"
            onClick={props.onCloseAll}
            data-testid="close-all"
          >
            {trans.__('Close all open sessions…')}
          </button>
        )}
      </div>
    </div>
  );
}

/** "Open sessions billed: …", at every change to the open sessions. */
function OpenBilled(props: {
  model: MonitorModel;
  subscribe: (changed: () => void) => () => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, trans } = props;
  const open = React.useSyncExternalStore(
    props.subscribe,
    () => model.store.open
  );
  return (
    <span>
      {trans.__('Open sessions billed:')}{' '}
      <TotalBilled
        views={open}
        ticker={model.ticker}
        offset={model.store.clockOffset}
        trans={trans}
        label={trans.__('Billed so far by the open sessions')}
      />
    </span>
  );
}
