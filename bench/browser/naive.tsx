/**
 * The baseline: the sidebar as one would first write it. One component at the top keeps `now`
 * in its state (set on every tick) and the store's version, and renders the whole grouped list,
 * every row with its countdown text, on each of them: no React.memo, no per-row subscription to
 * the tick, no visibility gating. The same markup (class names, so the same CSS applies), the
 * same pure functions (src/present.ts, src/timer.ts) and the same icons as the real components,
 * so the two do the same work per row and differ only in how much of it they redo.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import {
  caretDownIcon,
  caretRightIcon,
  copyIcon,
  stopIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import type { SessionActions } from '../../src/actions';
import { SessionButtons, StatusBadge } from '../../src/components/SessionRow';
import {
  countdownsOf,
  endReasonText,
  formatDuration,
  groupSessions,
  groupTitle,
  ICountdown,
  isClosed,
  jobCancellable,
  jobCountsText,
  modeText,
  shortId
} from '../../src/present';
import type {
  ISessionView,
  ITransition,
  SessionStore
} from '../../src/sessionStore';
import type { Ticker } from '../../src/ticker';

export interface INaiveListProps {
  store: SessionStore;
  ticker: Ticker;
  actions: SessionActions;
  trans: TranslationBundle;
  fetchOne: (id: string) => Promise<ISessionView>;
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
  const groups = groupSessions(store.sessions.values(), {
    filter,
    show,
    recentlyClosedMinutes: 60,
    now: now - offset
  });
  const toggle = (set: Set<string>, key: string) => {
    const next = new Set(set);
    if (!next.delete(key)) {
      next.add(key);
    }
    return next;
  };
  return (
    <div className="jp-SessionMonitor-body">
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
      </div>
      {groups.map(group => {
        const title = groupTitle(group, trans);
        const isCollapsed = collapsed.has(group.key);
        const Caret = isCollapsed ? caretRightIcon : caretDownIcon;
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
                onClick={() => setCollapsed(toggle(collapsed, group.key))}
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
                <span className="jp-SessionMonitor-groupTitle">{title}</span>
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
                    expanded={expanded.has(view.id)}
                    onToggle={() => setExpanded(toggle(expanded, view.id))}
                    actions={actions}
                    trans={trans}
                    fetchOne={props.fetchOne}
                  />
                ))}
              </ul>
            )}
          </section>
        );
      })}
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
    </div>
  );
}

function NaiveRow(props: {
  view: ISessionView;
  now: number;
  offset: number;
  expanded: boolean;
  onToggle: () => void;
  actions: SessionActions;
  trans: TranslationBundle;
  fetchOne: (id: string) => Promise<ISessionView>;
}): JSX.Element {
  const { view, now, offset, expanded, actions, trans } = props;
  const closed = isClosed(view);
  const reason = endReasonText(view, trans);
  const countdowns = countdownsOf(view, now, offset, trans);
  const primary = primaryOf(countdowns);
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
        <span className="jp-SessionMonitor-id">
          <code title={view.id}>{shortId(view.id)}</code>
          <button
            type="button"
            className="jp-SessionMonitor-iconButton"
            aria-label={trans.__('Copy session id %1', view.id)}
            title={trans.__('Copy the full id')}
          >
            <copyIcon.react tag="span" elementSize="small" />
          </button>
        </span>
      </div>
      <StatusBadge view={view} />
      {!closed && primary.length > 0 && (
        <Countdowns countdowns={primary} stale={view.stale} trans={trans} />
      )}
      {reason && <div className="jp-SessionMonitor-endReason">{reason}</div>}
      <div className="jp-SessionMonitor-counts">
        <span data-testid="job-counts">{jobCountsText(view, trans)}</span>
        <span className="jp-SessionMonitor-usage">
          {trans.__('usage %1', formatDuration(view.usage_seconds, trans))}
        </span>
      </div>
      {view.stale && (
        <LastUpdated view={view} now={now} offset={offset} trans={trans} />
      )}
      <SessionButtons view={view} actions={actions} busy={busy} trans={trans} />
      {expanded && (
        <div className="jp-SessionMonitor-expanded">
          {countdowns.length > primary.length && (
            <Countdowns
              countdowns={countdowns.filter(c => !primary.includes(c))}
              stale={view.stale}
              trans={trans}
            />
          )}
          {!view.stale && (
            <LastUpdated view={view} now={now} offset={offset} trans={trans} />
          )}
          <JobTable view={view} actions={actions} trans={trans} />
          <Details view={view} trans={trans} />
          <Timeline view={view} fetchOne={props.fetchOne} trans={trans} />
        </div>
      )}
    </li>
  );
}

/** What a collapsed row shows: the soonest clock, and "inactive" when it is (as the real row). */
function primaryOf(countdowns: ICountdown[]): ICountdown[] {
  const clock = countdowns.find(c => c.seconds !== null);
  const inactive = countdowns.find(c => c.kind === 'inactive');
  const shown = [clock, inactive].filter(
    (c): c is ICountdown => c !== undefined
  );
  return shown.length ? shown : countdowns.slice(0, 1);
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

function when(value: string | null | undefined): string {
  if (!value) {
    return '—';
  }
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toLocaleTimeString();
}

function JobTable(props: {
  view: ISessionView;
  actions: SessionActions;
  trans: TranslationBundle;
}): JSX.Element {
  const { view, actions, trans } = props;
  const jobs = view.jobs ?? [];
  return (
    <table className="jp-SessionMonitor-jobs">
      <caption>{trans.__('Jobs of session %1', shortId(view.id))}</caption>
      <thead>
        <tr>
          <th scope="col">{trans.__('Job')}</th>
          <th scope="col">{trans.__('Primitive')}</th>
          <th scope="col">{trans.__('Status')}</th>
          <th scope="col">
            <span className="jp-SessionMonitor-srOnly">
              {trans.__('Actions')}
            </span>
          </th>
        </tr>
      </thead>
      <tbody>
        {[...jobs].reverse().map(job => (
          <tr key={job.id} data-job-id={job.id}>
            <td>
              <code title={job.id}>{shortId(job.id)}</code>
              <div className="jp-SessionMonitor-muted">
                <span className="jp-SessionMonitor-srOnly">
                  {trans.__('created')}{' '}
                </span>
                {when(job.created)}
              </div>
              {job.tags.length > 0 && (
                <div aria-label={trans.__('Tags')}>
                  {job.tags.map(tag => (
                    <span className="jp-SessionMonitor-tag" key={tag}>
                      {tag}
                    </span>
                  ))}
                </div>
              )}
            </td>
            <td>{job.program_id}</td>
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
                {job.status === 'RUNNING'
                  ? trans.__('running')
                  : job.status === 'QUEUED'
                    ? trans.__('waiting')
                    : formatDuration(job.usage_seconds, trans)}
              </div>
            </td>
            <td>
              {jobCancellable(job) && (
                <button
                  type="button"
                  className="jp-SessionMonitor-iconButton jp-SessionMonitor-jobCancel"
                  disabled={actions.busy(job.id)}
                  aria-label={trans.__('Cancel job %1', shortId(job.id))}
                  title={trans.__('Cancel job %1', shortId(job.id))}
                >
                  <stopIcon.react tag="span" elementSize="small" />
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Details(props: {
  view: ISessionView;
  trans: TranslationBundle;
}): JSX.Element {
  const details = props.view.details ?? {};
  return (
    <details className="jp-SessionMonitor-detailsBlock">
      <summary>{props.trans.__('details()')}</summary>
      <dl className="jp-SessionMonitor-detailList">
        {Object.entries(details)
          .filter(([key]) => key !== 'timestamps')
          .map(([key, value]) => (
            <React.Fragment key={key}>
              <dt>{key}</dt>
              <dd>
                {value === null || value === undefined
                  ? '—'
                  : typeof value === 'object'
                    ? JSON.stringify(value)
                    : String(value)}
              </dd>
            </React.Fragment>
          ))}
      </dl>
    </details>
  );
}

function Timeline(props: {
  view: ISessionView;
  fetchOne: (id: string) => Promise<ISessionView>;
  trans: TranslationBundle;
}): JSX.Element {
  const { view, fetchOne, trans } = props;
  const [timeline, setTimeline] = React.useState<ITransition[] | null>(null);
  const key = `${view.id}|${view.state}|${view.accepting_jobs}`;
  React.useEffect(() => {
    let cancelled = false;
    void fetchOne(view.id).then(full => {
      if (!cancelled) {
        setTimeline(full.timeline ?? []);
      }
    });
    return () => {
      cancelled = true;
    };
  }, [key]);
  return (
    <div className="jp-SessionMonitor-timeline">
      <h4>{trans.__('Timeline')}</h4>
      {timeline === null && (
        <p className="jp-SessionMonitor-muted">{trans.__('Loading…')}</p>
      )}
      {timeline && (
        <ol>
          {timeline.map((step, index) => (
            <li key={index}>
              <time dateTime={step.at}>{when(step.at)}</time> {step.status}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
