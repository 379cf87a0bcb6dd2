/**
 * The baseline: the sidebar as one would first write it. One component at the top keeps `now`
 * in its state (set on every tick) and the store's version, and renders the whole grouped list,
 * every row with its countdown text, on each of them: no React.memo, no per-row subscription to
 * the tick or to the store, no visibility gating. The same markup as the real list and row
 * (elements and class names, so the same CSS applies; the job table paged at `JOB_PAGE` with its
 * status toggles and copy buttons), the same pure functions (src/present/, src/money.ts,
 * src/timer.ts), the same stateless pieces (`StatusBadge`, `SessionOutcome`, `SessionButtons`,
 * `TimelinePicture`) and the same icons, so the two do the same work per row and differ only in
 * how much of it they redo. The benchmark compares the two DOMs element by element class.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import {
  addIcon,
  caretDownIcon,
  caretRightIcon,
  copyIcon,
  stopIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import type { SessionActions } from '../../src/actions';
import {
  SessionButtons,
  SessionOutcome,
  StatusBadge
} from '../../src/components/row';
import { TimelinePicture } from '../../src/components/timeline';
import {
  budgetText,
  fitText,
  formatMoney,
  meterAt,
  meterOfTotal,
  meterText,
  totalOf,
  worstCaseText
} from '../../src/money';
import {
  clockTime,
  countdownsOf,
  countJobs,
  filterJobs,
  formatDuration,
  groupSessions,
  groupTitle,
  ICountdown,
  isClosed,
  isLost,
  isOpen,
  JOB_PAGE,
  jobCancellable,
  jobCountText,
  jobReasonText,
  modeText,
  notebookName,
  orderJobs,
  primaryCountdowns,
  shortId
} from '../../src/present';
import type {
  IJobView,
  ISessionView,
  ITransition,
  SessionStore
} from '../../src/store/sessionStore';
import type { Ticker } from '../../src/ticker';

export interface INaiveListProps {
  store: SessionStore;
  ticker: Ticker;
  actions: SessionActions;
  trans: TranslationBundle;
  fetchTimeline: (id: string) => Promise<ISessionView>;
}

export function NaiveList(props: INaiveListProps): JSX.Element {
  const { store, ticker, actions, trans } = props;
  const [now, setNow] = React.useState(() => Date.now());
  const [, setVersion] = React.useState(0);
  React.useEffect(() => ticker.subscribe(setNow), [ticker]);
  React.useEffect(() => {
    const changed = () => setVersion(v => v + 1);
    store.changed.connect(changed);
    actions.busyChanged.connect(changed);
    return () => {
      store.changed.disconnect(changed);
      actions.busyChanged.disconnect(changed);
    };
  }, [store, actions]);
  const [filter, setFilter] = React.useState('');
  const [show, setShow] = React.useState<'open' | 'all'>('all');
  const [expanded, setExpanded] = React.useState<Set<string>>(new Set());
  const [collapsed, setCollapsed] = React.useState<Set<string>>(
    new Set(['closed'])
  );
  const offset = store.clockOffset;
  const stale = store.connection === 'reconnecting';
  const groups = groupSessions(store.sessions.values(), {
    filter,
    show,
    recentlyClosedMinutes: 60,
    now: now - offset
  });
  const open = [...store.sessions.values()].filter(isOpen);
  const toggle = (set: Set<string>, key: string) => {
    const next = new Set(set);
    if (!next.delete(key)) {
      next.add(key);
    }
    return next;
  };
  return (
    <div className="jp-SessionMonitor-body">
      <div className="jp-SessionMonitor-money">
        <div className="jp-SessionMonitor-moneyRow">
          {open.length > 0 && (
            <span>
              {trans.__('Open sessions billed:')}{' '}
              <TotalBilled
                views={open}
                now={now}
                offset={offset}
                trans={trans}
              />
            </span>
          )}
          <button type="button" className="jp-SessionMonitor-linkButton">
            {trans.__('Set a rate…')}
          </button>
          <button type="button" className="jp-SessionMonitor-linkButton">
            {trans.__('Export history (CSV)')}
          </button>
          {open.length > 0 && (
            <button
              type="button"
              className="jp-SessionMonitor-linkButton jp-SessionMonitor-danger"
            >
              {trans.__('Close all open sessions…')}
            </button>
          )}
        </div>
      </div>
      <div className="jp-SessionMonitor-toolbar">
        <input
          type="search"
          className="jp-mod-styled jp-SessionMonitor-filter"
          placeholder={trans.__('Filter…')}
          aria-label={trans.__('Filter sessions by id, backend or tag')}
          value={filter}
          onChange={event => setFilter(event.target.value)}
        />
        <div className="jp-SessionMonitor-toggle" role="group">
          {(['open', 'all'] as const).map(value => (
            <button
              key={value}
              type="button"
              className="jp-mod-styled"
              aria-pressed={show === value}
              onClick={() => setShow(value)}
            >
              {value === 'open' ? trans.__('Open') : trans.__('All')}
            </button>
          ))}
        </div>
        <button
          type="button"
          className="jp-SessionMonitor-iconButton jp-SessionMonitor-trackButton"
          aria-label={trans.__('Track a session by id')}
        >
          <addIcon.react tag="span" elementSize="normal" />
        </button>
      </div>
      <form className="jp-SessionMonitor-track">
        <label htmlFor="naive-trackId">
          {trans.__('Track a session by id')}
        </label>
        <div className="jp-SessionMonitor-trackRow">
          <input id="naive-trackId" className="jp-mod-styled" />
          <button type="submit" className="jp-mod-styled jp-mod-accept">
            {trans.__('Track')}
          </button>
        </div>
      </form>
      {groups.map(group => {
        const title = groupTitle(group, trans);
        const isCollapsed = collapsed.has(group.key);
        const Caret = isCollapsed ? caretRightIcon : caretDownIcon;
        const onCollapse = () => setCollapsed(toggle(collapsed, group.key));
        return (
          <section
            key={group.key}
            className={`jp-SessionMonitor-group jp-mod-${group.kind}`}
            aria-label={title}
            data-group={group.key}
          >
            <h3 className="jp-SessionMonitor-groupHeader">
              <button
                type="button"
                className="jp-SessionMonitor-groupToggle"
                aria-expanded={!isCollapsed}
                onClick={onCollapse}
              >
                <Caret.react tag="span" elementSize="small" />
              </button>
              {group.kind === 'notebook' ? (
                <button
                  type="button"
                  className="jp-SessionMonitor-notebookLink"
                  title={trans.__('Open %1', group.path ?? '')}
                >
                  {title}
                </button>
              ) : (
                <button
                  type="button"
                  className="jp-SessionMonitor-groupTitle"
                  tabIndex={-1}
                  onClick={onCollapse}
                >
                  {title}
                </button>
              )}
              {group.kind === 'notebook' && (
                <TotalBilled
                  views={group.sessions}
                  now={now}
                  offset={offset}
                  trans={trans}
                />
              )}
              <span className="jp-SessionMonitor-count">
                {group.sessions.length}
              </span>
            </h3>
            {!isCollapsed && (
              <ul className="jp-SessionMonitor-sessions">
                {group.sessions.map(view => (
                  <NaiveRow
                    key={view.id}
                    view={view}
                    now={now}
                    offset={offset}
                    stale={stale}
                    filter={filter}
                    expanded={expanded.has(view.id)}
                    onToggle={() => setExpanded(toggle(expanded, view.id))}
                    actions={actions}
                    trans={trans}
                    fetchTimeline={props.fetchTimeline}
                    ticker={ticker}
                    byNotebook={group.kind !== 'notebook'}
                  />
                ))}
              </ul>
            )}
          </section>
        );
      })}
    </div>
  );
}

function NaiveRow(props: {
  view: ISessionView;
  now: number;
  offset: number;
  stale: boolean;
  filter: string;
  expanded: boolean;
  onToggle: () => void;
  actions: SessionActions;
  trans: TranslationBundle;
  fetchTimeline: (id: string) => Promise<ISessionView>;
  ticker: Ticker;
  /** The row's group does not name its notebook: say which one opened it. */
  byNotebook: boolean;
}): JSX.Element {
  const { view, now, offset, expanded, actions, trans } = props;
  const closed = !isOpen(view);
  const stale = props.stale || view.stale;
  const countdowns = countdownsOf(view, now, offset, trans);
  const primary = primaryCountdowns(countdowns);
  const rest = countdowns.filter(c => !primary.includes(c));
  const Caret = expanded ? caretDownIcon : caretRightIcon;
  const busy = actions.busy(view.id);
  return (
    <li
      className={
        'jp-SessionMonitor-session' +
        (closed ? ' jp-mod-closed' : '') +
        (view.stale ? ' jp-mod-stale' : '')
      }
      data-session-id={view.id}
      aria-busy={busy}
    >
      <div className="jp-SessionMonitor-summary">
        <button
          type="button"
          className="jp-SessionMonitor-expand"
          aria-expanded={expanded}
          aria-label={trans.__(
            'Session %1 on %2, %3',
            shortId(view.id),
            view.backend ?? trans.__('unknown backend'),
            view.status
          )}
          onClick={props.onToggle}
        >
          <Caret.react tag="span" elementSize="small" />
          <span className="jp-SessionMonitor-backend">
            {view.backend ?? trans.__('unknown backend')}
          </span>
        </button>
        <span className="jp-SessionMonitor-mode">{modeText(view, trans)}</span>
        {view.source === 'headless' && (
          <span className="jp-SessionMonitor-headless">
            {trans.__('headless run')}
          </span>
        )}
        <StatusBadge view={view} trans={trans} />
        <CopyId id={view.id} label={trans.__('Copy session id %1', view.id)} />
      </div>
      {isLost(view) && (
        <div className="jp-SessionMonitor-lost" role="note">
          {view.error?.message}
        </div>
      )}
      <div className="jp-SessionMonitor-info">
        {!closed && primary.length > 0 && (
          <Countdowns countdowns={primary} stale={stale} trans={trans} />
        )}
        <SessionOutcome view={view} trans={trans} />
        <Billing view={view} now={now} offset={offset} trans={trans} />
        {!closed && fitText(view, trans) && (
          <div className="jp-SessionMonitor-fit" role="note">
            {fitText(view, trans)}
          </div>
        )}
        <RowFacts
          view={view}
          trans={trans}
          path={props.byNotebook ? view.notebook_path : null}
        />
        {view.stale && (
          <LastUpdated view={view} now={now} offset={offset} trans={trans} />
        )}
      </div>
      <SessionButtons view={view} actions={actions} busy={busy} trans={trans} />
      {expanded && (
        <div className="jp-SessionMonitor-expanded">
          {(closed ? countdowns : rest).length > 0 && (
            <Countdowns
              countdowns={closed ? countdowns : rest}
              stale={stale}
              trans={trans}
            />
          )}
          {!view.stale && (
            <LastUpdated view={view} now={now} offset={offset} trans={trans} />
          )}
          <JobTable
            view={view}
            actions={actions}
            trans={trans}
            filter={props.filter}
          />
          <Details view={view} trans={trans} />
          <div className="jp-SessionMonitor-rowLinks">
            <button type="button" className="jp-SessionMonitor-linkButton">
              {isClosed(view)
                ? trans.__('Receipt…')
                : trans.__('Receipt so far…')}
            </button>
          </div>
          <Timeline
            view={view}
            offset={offset}
            fetchTimeline={props.fetchTimeline}
            ticker={props.ticker}
            trans={trans}
          />
        </div>
      )}
    </li>
  );
}

function CopyId(props: { id: string; label: string }): JSX.Element {
  return (
    <span className="jp-SessionMonitor-id">
      <code title={props.id}>{shortId(props.id)}</code>
      <button
        type="button"
        className="jp-SessionMonitor-iconButton"
        aria-label={props.label}
      >
        <copyIcon.react tag="span" elementSize="small" />
      </button>
    </span>
  );
}

function Countdowns(props: {
  countdowns: ICountdown[];
  stale: boolean;
  trans: TranslationBundle;
}): JSX.Element {
  return (
    <div
      className={
        'jp-SessionMonitor-countdowns' + (props.stale ? ' jp-mod-stale' : '')
      }
    >
      {props.countdowns.map(countdown => (
        <div
          key={countdown.kind}
          className={
            'jp-SessionMonitor-countdown' +
            (countdown.seconds !== null && countdown.seconds <= 60
              ? ' jp-mod-urgent'
              : '')
          }
          data-kind={countdown.kind}
        >
          <span role="timer" aria-label={countdown.label}>
            <span aria-hidden="true" data-testid="countdown-text">
              {countdown.text}
            </span>
          </span>
          {props.stale && (
            <span className="jp-SessionMonitor-staleNote">
              {' '}
              {props.trans.__('(may be out of date)')}
            </span>
          )}
          {countdown.progress !== undefined && (
            <progress
              className="jp-SessionMonitor-progress"
              max={1}
              value={countdown.progress}
            />
          )}
        </div>
      ))}
    </div>
  );
}

/** The billing line and the budget line, as `BillingLine` and `BudgetLine` render them. */
function Billing(props: {
  view: ISessionView;
  now: number;
  offset: number;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { view, trans } = props;
  const meter = meterAt(view, props.now - props.offset);
  const worst = meter && worstCaseText(view, meter, trans);
  const budget = view.budget;
  const state = budget?.reached ? 'reached' : budget?.warned ? 'warned' : 'ok';
  return (
    <>
      {meter && view.billing && (
        <div className="jp-SessionMonitor-billing">
          <span>{meterText(meter, view.billing, trans)}</span>
          {worst && <span className="jp-SessionMonitor-muted"> · {worst}</span>}
        </div>
      )}
      {budget && (
        <div className={`jp-SessionMonitor-budget jp-mod-${state}`}>
          {budgetText(budget, meter?.billed ?? null, trans)}
        </div>
      )}
    </>
  );
}

function TotalBilled(props: {
  views: ISessionView[];
  now: number;
  offset: number;
  trans: TranslationBundle;
}): JSX.Element | null {
  const total = meterOfTotal(totalOf(props.views), props.now - props.offset);
  if (!total || total.billed < 0.05) {
    return null;
  }
  const currency =
    props.views.find(v => v.billing?.currency)?.billing?.currency ?? null;
  return (
    <span className="jp-SessionMonitor-total">
      {formatDuration(total.billed, props.trans) +
        (total.cost === null ? '' : ` · ${formatMoney(total.cost, currency)}`)}
    </span>
  );
}

function RowFacts(props: {
  view: ISessionView;
  trans: TranslationBundle;
  path: string | null;
}): JSX.Element | null {
  const { view, trans, path } = props;
  const tags = [...new Set((view.jobs ?? []).flatMap(job => job.tags))];
  const closedAt = view.details?.closed_at;
  const closedText =
    isClosed(view) && typeof closedAt === 'string'
      ? trans.__('closed at %1', clockTime(closedAt))
      : null;
  if (!tags.length && !closedText && !path) {
    return null;
  }
  const shown = tags.slice(0, 4);
  return (
    <div className="jp-SessionMonitor-facts">
      {path && (
        <span>
          {trans.__('opened by')}{' '}
          <button type="button" className="jp-SessionMonitor-linkButton">
            {notebookName(path)}
          </button>
        </span>
      )}
      {closedText && <span>{closedText}</span>}
      {shown.length > 0 && (
        <span role="group">
          {shown.map(tag => (
            <span className="jp-SessionMonitor-tag" key={tag}>
              {tag}
            </span>
          ))}
          {tags.length > shown.length &&
            trans.__('+%1 more', tags.length - shown.length)}
        </span>
      )}
    </div>
  );
}

function LastUpdated(props: {
  view: ISessionView;
  now: number;
  offset: number;
  trans: TranslationBundle;
}): JSX.Element {
  const { view, trans } = props;
  const polled = view.last_polled_at ? Date.parse(view.last_polled_at) : NaN;
  const ago = Number.isNaN(polled)
    ? null
    : Math.max(0, Math.round((props.now - props.offset - polled) / 1000));
  return (
    <div
      className={
        'jp-SessionMonitor-updated' + (view.stale ? ' jp-mod-stale' : '')
      }
    >
      <span aria-hidden="true">
        {ago === null
          ? trans.__('not updated yet')
          : trans.__('last updated %1 ago', formatDuration(ago, trans))}
      </span>
      {view.stale && view.error && (
        <span className="jp-SessionMonitor-pollError">
          {' — '}
          {view.error.message}
        </span>
      )}
    </div>
  );
}

function jobDuration(job: IJobView, trans: TranslationBundle): string {
  return job.status === 'RUNNING'
    ? trans.__('running')
    : job.status === 'QUEUED'
      ? trans.__('waiting')
      : formatDuration(job.usage_seconds, trans);
}

/** The first page of jobs (no paging state: a naive table shows the default view). */
function JobTable(props: {
  view: ISessionView;
  actions: SessionActions;
  trans: TranslationBundle;
  filter: string;
}): JSX.Element {
  const { view, actions, trans } = props;
  const { jobs, hidden } = filterJobs(view, props.filter);
  const ordered = orderJobs(jobs);
  const shown = ordered.slice(0, JOB_PAGE);
  const more = ordered.length - shown.length;
  const counts = countJobs(jobs);
  const hiddenLine = hidden > 0 && (
    <p className="jp-SessionMonitor-muted">
      {trans._n(
        '%1 job hidden by the filter',
        '%1 jobs hidden by the filter',
        hidden
      )}
    </p>
  );
  if (!jobs.length) {
    return (
      hiddenLine || (
        <p className="jp-SessionMonitor-muted">
          {trans.__(
            'No jobs yet. Primitives run in this session add them here.'
          )}
        </p>
      )
    );
  }
  return (
    <>
      {counts.length > 1 && (
        <div role="group" className="jp-SessionMonitor-statusFilter">
          <button
            type="button"
            className="jp-SessionMonitor-statusChip"
            aria-pressed={true}
          >
            {trans.__('all %1', jobs.length)}
          </button>
          {counts.map(entry => (
            <button
              key={entry.status}
              type="button"
              className={`jp-SessionMonitor-statusChip jp-mod-${entry.status.toLowerCase()}`}
              aria-pressed={false}
            >
              {jobCountText(entry.status, entry.count, trans)}
            </button>
          ))}
        </div>
      )}
      <table className="jp-SessionMonitor-jobs">
        <caption>{trans.__('Jobs of session %1', shortId(view.id))}</caption>
        <thead>
          <tr>
            <th scope="col">{trans.__('Job')}</th>
            <th scope="col">{trans.__('Status')}</th>
            <th scope="col">
              <span className="jp-SessionMonitor-srOnly">
                {trans.__('Actions')}
              </span>
            </th>
          </tr>
        </thead>
        <tbody>
          {shown.map(job => (
            <tr key={job.id} data-job-id={job.id}>
              <td>
                <CopyId
                  id={job.id}
                  label={trans.__('Copy job id %1', job.id)}
                />{' '}
                <span className="jp-SessionMonitor-muted">
                  {job.program_id}
                </span>
                <div className="jp-SessionMonitor-muted">
                  <span className="jp-SessionMonitor-srOnly">
                    {trans.__('created')}{' '}
                  </span>
                  {clockTime(job.created)}
                </div>
                {job.cell && view.notebook_path && (
                  <button
                    type="button"
                    className="jp-SessionMonitor-linkButton jp-SessionMonitor-muted"
                  >
                    {trans.__('cell [%1]', job.cell.execution_count ?? '')}
                  </button>
                )}
                {job.tags.length > 0 && (
                  <div role="group">
                    {job.tags.map(tag => (
                      <span className="jp-SessionMonitor-tag" key={tag}>
                        {tag}
                      </span>
                    ))}
                  </div>
                )}
                {jobReasonText(job) && (
                  <div className="jp-SessionMonitor-jobReason">
                    <span className="jp-SessionMonitor-srOnly">
                      {trans.__('failed because')}{' '}
                    </span>
                    {jobReasonText(job)}
                  </div>
                )}
              </td>
              <td>
                <div
                  className={`jp-SessionMonitor-jobStatus jp-mod-${job.status.toLowerCase()}`}
                >
                  {job.status}
                </div>
                <div className="jp-SessionMonitor-muted">
                  <span className="jp-SessionMonitor-srOnly">
                    {trans.__('duration')}{' '}
                  </span>
                  {jobDuration(job, trans)}
                </div>
              </td>
              <td>
                {jobCancellable(job) && (
                  <button
                    type="button"
                    className="jp-SessionMonitor-iconButton jp-SessionMonitor-jobCancel"
                    aria-disabled={actions.busy(job.id)}
                    aria-label={trans.__('Cancel job %1', shortId(job.id))}
                  >
                    <stopIcon.react tag="span" elementSize="small" />
                    <span
                      className="jp-SessionMonitor-jobCancelLabel"
                      aria-hidden="true"
                    >
                      {trans.__('Cancel')}
                    </span>
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {more > 0 && (
        <p className="jp-SessionMonitor-moreJobs">
          <span>
            {trans.__('Showing %1 of %2 jobs.', shown.length, ordered.length)}
          </span>{' '}
          <button type="button" className="jp-SessionMonitor-linkButton">
            {trans.__('Show %1 more', Math.min(more, JOB_PAGE))}
          </button>
          {more > JOB_PAGE && (
            <>
              {' · '}
              <button type="button" className="jp-SessionMonitor-linkButton">
                {trans.__('Show all %1', ordered.length)}
              </button>
            </>
          )}
        </p>
      )}
      {hiddenLine}
    </>
  );
}

function Details(props: {
  view: ISessionView;
  trans: TranslationBundle;
}): JSX.Element {
  const [open, setOpen] = React.useState(false); // the list only while open, as the real row
  const details = props.view.details ?? {};
  return (
    <details
      className="jp-SessionMonitor-detailsBlock"
      onToggle={event => setOpen(event.currentTarget.open)}
    >
      <summary>{props.trans.__('details()')}</summary>
      {open && (
        <dl className="jp-SessionMonitor-detailList">
          {Object.entries(details)
            .filter(([key]) => key !== 'timestamps')
            .map(([key, value]) => (
              <React.Fragment key={key}>
                <dt>{key}</dt>
                <dd
                  className={
                    typeof value === 'string' &&
                    /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(value)
                      ? 'jp-mod-time'
                      : undefined
                  }
                >
                  {value === null || value === undefined
                    ? '—'
                    : typeof value === 'object'
                      ? JSON.stringify(value)
                      : String(value)}
                </dd>
              </React.Fragment>
            ))}
        </dl>
      )}
    </details>
  );
}

const SWATCHES: [string, string][] = [
  ['active', 'active'],
  ['inactive', 'inactive'],
  ['idle', 'billed while idle'],
  ['queued', 'queued'],
  ['done', 'ran'],
  ['error', 'failed']
];

function Timeline(props: {
  view: ISessionView;
  offset: number;
  fetchTimeline: (id: string) => Promise<ISessionView>;
  ticker: Ticker;
  trans: TranslationBundle;
}): JSX.Element {
  const { view, fetchTimeline, trans } = props;
  const [full, setFull] = React.useState<ISessionView | null>(null);
  const summary = JSON.stringify(view.jobs_summary ?? {});
  const key = `${view.id}|${view.state}|${view.accepting_jobs}|${summary}`;
  React.useEffect(() => {
    let cancelled = false;
    void fetchTimeline(view.id).then(answer => {
      if (!cancelled) {
        setFull(answer);
      }
    });
    return () => {
      cancelled = true;
    };
  }, [key]);
  const timeline: ITransition[] | null = full ? (full.timeline ?? []) : null;
  return (
    <div className="jp-SessionMonitor-timeline">
      <h4>{trans.__('Timeline')}</h4>
      {timeline === null && (
        <p className="jp-SessionMonitor-muted">{trans.__('Loading…')}</p>
      )}
      {full && timeline && (
        <>
          {/* A new view object: the picture is drawn again on every render of the list. */}
          <TimelinePicture
            view={{ ...full, jobs: full.jobs ?? [] }}
            transitions={timeline}
            ticker={props.ticker}
            offset={props.offset}
            trans={trans}
          />
          <p className="jp-SessionMonitor-legend jp-SessionMonitor-muted">
            {SWATCHES.map(([kind, words]) => (
              <React.Fragment key={kind}>
                <span className={`jp-SessionMonitor-swatch jp-mod-${kind}`} />
                {trans.__(words)}{' '}
              </React.Fragment>
            ))}
          </p>
          <details>
            <summary>{trans.__('State changes')}</summary>
            <ol>
              {timeline.map((step, index) => (
                <li key={index}>
                  <time dateTime={step.at}>{clockTime(step.at)}</time>{' '}
                  {step.status}
                </li>
              ))}
            </ol>
          </details>
        </>
      )}
    </div>
  );
}
