import type { TranslationBundle } from '@jupyterlab/translation';
import {
  caretDownIcon,
  caretRightIcon,
  copyIcon,
  stopIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import type { SessionActions } from '../actions';
import { useSignalVersion } from '../hooks';
import {
  actionsFor,
  clockTime,
  countJobs,
  endReasonText,
  filterJobs,
  formatDuration,
  isClosed,
  isLost,
  isOpen,
  jobCancellable,
  JOB_PAGE,
  jobCountText,
  jobCountsText,
  jobReasonText,
  modeText,
  notebookName,
  orderJobs,
  pendingActionText,
  shortId
} from '../present';
import type { IJobView, ISessionView, ITransition } from '../sessionStore';
import { Ticker, useNow, useOnScreen } from '../ticker';
import { parseTime } from '../timer';
import { Countdown } from './Countdown';
import { RepeatedIcon } from './RepeatedIcon';
import { TimelinePicture } from './TimelinePicture';
import { BillingLine, BudgetLine, FitLine } from './Money';

/**
 * The row's icons as elements made once: React skips an element it has already rendered, so a
 * row that renders again leaves its icons alone (a `LabIcon` re-subscribes to its icon's changes
 * on every render, which costs more the more icons the page holds). Copy and Cancel, on every
 * session and every job, and mounted whenever a job enters a job table's page, are clones
 * (`RepeatedIcon`).
 */
const ICONS = {
  expanded: <caretDownIcon.react tag="span" elementSize="small" />,
  collapsed: <caretRightIcon.react tag="span" elementSize="small" />,
  copy: <RepeatedIcon icon={copyIcon} />,
  stop: <RepeatedIcon icon={stopIcon} />
};

export interface ISessionRowProps {
  view: ISessionView;
  expanded: boolean;
  onToggle: (id: string) => void;
  actions: SessionActions;
  /** Whether a request for this session is in flight. */
  busy: boolean;
  ticker: Ticker;
  offset: number;
  trans: TranslationBundle;
  /** The push channel is down: numbers may be old. */
  stale: boolean;
  showDetails: boolean;
  showTimeline: boolean;
  /** `GET sessions/{id}`, for the timeline of an expanded row. */
  fetchOne: (id: string) => Promise<ISessionView>;
  /** The sidebar's filter: an expanded row lists only the jobs it matches (see `filterJobs`). */
  filter?: string;
  /**
   * Opens a notebook; given when the row's group does not name its notebook (orphaned, not
   * found, recently closed), so the row says which notebook opened the session.
   */
  openNotebook?: (path: string) => void;
}

/** A status word with a state class for colour; the words carry the meaning. */
export function StatusBadge({
  view,
  trans
}: {
  view: ISessionView;
  trans: TranslationBundle;
}): JSX.Element {
  const state = isLost(view) ? 'lost' : (view.state ?? 'unknown').toLowerCase();
  const text = isLost(view)
    ? trans.__('Not found at the service')
    : view.status;
  return (
    <span
      className={`jp-SessionMonitor-status jp-mod-${state}`}
      data-testid="session-status"
      title={text}
    >
      {text}
    </span>
  );
}

/** A short id with a button that copies the full one; `label` names what is copied. */
const CopyId = React.memo(function CopyId({
  id,
  trans,
  label
}: {
  id: string;
  trans: TranslationBundle;
  label?: string;
}): JSX.Element {
  const [copied, setCopied] = React.useState(false);
  return (
    <span className="jp-SessionMonitor-id">
      <code title={id}>{shortId(id)}</code>
      <button
        type="button"
        className="jp-SessionMonitor-iconButton"
        aria-label={label ?? trans.__('Copy session id %1', id)}
        title={copied ? trans.__('Copied') : trans.__('Copy the full id')}
        onClick={() => {
          void navigator.clipboard?.writeText(id).then(() => setCopied(true));
        }}
      >
        {ICONS.copy}
      </button>
    </span>
  );
});

/** One session: summary line, countdown, counts, actions; the full picture when expanded. */
export const SessionRow = React.memo(function SessionRow(
  props: ISessionRowProps
): JSX.Element {
  const { view, trans, expanded, busy } = props;
  const detailsId = `jp-SessionMonitor-details-${view.id}`;
  const closed = !isOpen(view);
  const focus = useFocusInRow();
  return (
    <li
      ref={focus.ref}
      onFocus={focus.onFocus}
      onBlur={focus.onBlur}
      className={
        'jp-SessionMonitor-session' +
        (closed ? ' jp-mod-closed' : '') +
        (view.stale ? ' jp-mod-stale' : '')
      }
      id={`jp-SessionMonitor-session-${view.id}`}
      data-session-id={view.id}
      aria-busy={busy}
    >
      <div className="jp-SessionMonitor-summary">
        <button
          type="button"
          className="jp-SessionMonitor-expand"
          aria-expanded={expanded}
          aria-controls={detailsId}
          aria-label={trans.__(
            'Session %1 on %2, %3',
            shortId(view.id),
            view.backend ?? trans.__('unknown backend'),
            view.status
          )}
          onClick={() => props.onToggle(view.id)}
        >
          {expanded ? ICONS.expanded : ICONS.collapsed}
          <span className="jp-SessionMonitor-backend">
            {view.backend ?? trans.__('unknown backend')}
          </span>
        </button>
        <span className="jp-SessionMonitor-mode">{modeText(view, trans)}</span>
        {view.source === 'headless' && (
          <span
            className="jp-SessionMonitor-headless"
            title={trans.__(
              'Opened by a notebook run outside JupyterLab (papermill, nbclient) from this server'
            )}
          >
            {trans.__('headless run')}
          </span>
        )}
        <StatusBadge view={view} trans={trans} />
        <CopyId id={view.id} trans={trans} />
      </div>
      {isLost(view) && (
        <div className="jp-SessionMonitor-lost" role="note">
          {view.error?.message ??
            trans.__(
              'The Qiskit Runtime service no longer knows this session. It is not counted as open.'
            )}
        </div>
      )}
      <div className="jp-SessionMonitor-info">
        {!closed && (
          <Countdown
            view={view}
            ticker={props.ticker}
            offset={props.offset}
            trans={trans}
            stale={props.stale || view.stale}
          />
        )}
        <SessionOutcome view={view} trans={trans} />
        <BillingLine
          view={view}
          ticker={props.ticker}
          offset={props.offset}
          trans={trans}
        />
        <BudgetLine
          view={view}
          ticker={props.ticker}
          offset={props.offset}
          trans={trans}
        />
        {!closed && <FitLine view={view} trans={trans} />}
        <RowFacts view={view} trans={trans} openNotebook={props.openNotebook} />
        {view.stale && (
          <LastUpdated
            view={view}
            ticker={props.ticker}
            offset={props.offset}
            trans={trans}
          />
        )}
      </div>
      <SessionButtons {...props} />
      {expanded && (
        <div id={detailsId} className="jp-SessionMonitor-expanded">
          <Countdown
            view={view}
            ticker={props.ticker}
            offset={props.offset}
            trans={trans}
            all
            skipPrimary={!closed}
            stale={props.stale || view.stale}
          />
          {!view.stale && (
            <LastUpdated
              view={view}
              ticker={props.ticker}
              offset={props.offset}
              trans={trans}
            />
          )}
          <JobTable
            view={view}
            actions={props.actions}
            trans={trans}
            filter={props.filter ?? ''}
          />
          {props.showDetails && <Details view={view} trans={trans} />}
          <RowLinks view={view} actions={props.actions} trans={trans} />
          {props.showTimeline && (
            <Timeline
              view={view}
              fetchOne={props.fetchOne}
              ticker={props.ticker}
              offset={props.offset}
              trans={trans}
            />
          )}
        </div>
      )}
    </li>
  );
});

/**
 * Keeps keyboard focus in a row whose focused button went away (Close once the session stops
 * accepting jobs, a job's Cancel once the job ended): the row's own button takes it, rather than
 * the page. A button that opened a dialog gets focus back from the dialog itself.
 */
function useFocusInRow(): {
  ref: React.RefObject<HTMLLIElement>;
  onFocus: (event: React.FocusEvent) => void;
  onBlur: (event: React.FocusEvent) => void;
} {
  const ref = React.useRef<HTMLLIElement>(null);
  const last = React.useRef<HTMLElement | null>(null);
  React.useLayoutEffect(() => {
    const element = last.current;
    const active = document.activeElement;
    if (
      element &&
      !element.isConnected &&
      (!active || active === document.body)
    ) {
      last.current = null;
      ref.current
        ?.querySelector<HTMLElement>('.jp-SessionMonitor-expand')
        ?.focus();
    }
  });
  const onFocus = React.useCallback((event: React.FocusEvent) => {
    last.current = event.target as HTMLElement;
  }, []);
  const onBlur = React.useCallback((event: React.FocusEvent) => {
    const next = event.relatedTarget as HTMLElement | null;
    const left = event.target as HTMLElement;
    if (next === null) {
      // Focus went nowhere: a click on plain text (the button is still there: forget it), or
      // the button was removed (keep it, so the next render gives focus to the row).
      setTimeout(() => {
        if (left.isConnected && last.current === left) {
          last.current = null;
        }
      });
    } else if (!ref.current?.contains(next) && !next.closest('.jp-Dialog')) {
      // Moved on by the user, not into a dialog this row opened: nothing to give back.
      last.current = null;
    }
  }, []);
  return { ref, onFocus, onBlur };
}

/** The end reason once closed, the job counts and the usage: shared by rows and widgets. */
export function SessionOutcome(props: {
  view: ISessionView;
  trans: TranslationBundle;
}): JSX.Element {
  const { view, trans } = props;
  const reason = endReasonText(view, trans);
  const pending = pendingActionText(view, trans);
  return (
    <>
      {pending && (
        <div
          className="jp-SessionMonitor-pendingAction"
          role="status"
          data-testid="pending-action"
        >
          {pending}
        </div>
      )}
      {reason && (
        <div className="jp-SessionMonitor-endReason" data-testid="end-reason">
          {reason}
        </div>
      )}
      <div className="jp-SessionMonitor-counts">
        <span data-testid="job-counts">{jobCountsText(view, trans)}</span>
        {!view.billing && (
          <span className="jp-SessionMonitor-usage">
            {trans.__('usage %1', formatDuration(view.usage_seconds, trans))}
          </span>
        )}
      </div>
    </>
  );
}

/** What tells sessions apart in a list: the tags of their jobs; when it closed. */
function RowFacts(props: {
  view: ISessionView;
  trans: TranslationBundle;
  openNotebook?: (path: string) => void;
}): JSX.Element | null {
  const { view, trans, openNotebook } = props;
  const distinct = new Set<string>();
  for (const job of view.jobs ?? []) {
    job.tags.forEach(tag => distinct.add(tag));
  }
  const tags = [...distinct];
  const closedAt = view.details?.closed_at;
  const closedText =
    isClosed(view) && typeof closedAt === 'string'
      ? trans.__('closed at %1', clockTime(closedAt))
      : null;
  const path = openNotebook ? view.notebook_path : null;
  if (!tags.length && !closedText && !path) {
    return null;
  }
  const shown = tags.slice(0, 4);
  return (
    <div className="jp-SessionMonitor-facts">
      {path && (
        <span data-testid="session-notebook">
          {trans.__('opened by')}{' '}
          <button
            type="button"
            className="jp-SessionMonitor-linkButton"
            title={trans.__('Open %1', path)}
            onClick={() => openNotebook!(path)}
          >
            {notebookName(path)}
          </button>
        </span>
      )}
      {closedText && <span>{closedText}</span>}
      {shown.length > 0 && (
        <span role="group" aria-label={trans.__('Job tags')}>
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

export function SessionButtons(props: {
  view: ISessionView;
  actions: SessionActions;
  busy: boolean;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { view, actions, busy, trans } = props;
  const available = actionsFor(view);
  if (isLost(view)) {
    return (
      <div className="jp-SessionMonitor-actions">
        <button
          type="button"
          className="jp-mod-styled jp-SessionMonitor-button"
          aria-disabled={busy}
          aria-label={trans.__('Forget session %1', shortId(view.id))}
          title={trans.__(
            'Remove it from this list; there is nothing left to close'
          )}
          onClick={() => busy || void actions.forget(view)}
        >
          {busy ? trans.__('Working…') : trans.__('Forget')}
        </button>
      </div>
    );
  }
  if (!available.length) {
    return null;
  }
  return (
    <div className="jp-SessionMonitor-actions">
      {available.includes('close') && (
        <button
          type="button"
          className="jp-mod-styled jp-mod-accept jp-SessionMonitor-button"
          aria-disabled={busy}
          aria-label={trans.__('Close session %1', shortId(view.id))}
          title={trans.__(
            'Stop accepting new jobs; queued and running jobs still run'
          )}
          onClick={() =>
            busy || void actions.confirmSessionAction(view, 'close')
          }
        >
          {busy ? trans.__('Working…') : trans.__('Close')}
        </button>
      )}
      <button
        type="button"
        className="jp-mod-styled jp-SessionMonitor-button"
        aria-disabled={busy}
        aria-label={trans.__('Budget for session %1', shortId(view.id))}
        title={trans.__(
          'Set a limit on what this session (or its notebook) may be billed, and what happens then'
        )}
        onClick={() => busy || void actions.editBudget(view)}
        data-testid="budget-button"
      >
        {trans.__('Budget…')}
      </button>
      <button
        type="button"
        className="jp-mod-styled jp-SessionMonitor-button jp-SessionMonitor-danger"
        aria-disabled={busy}
        aria-label={trans.__('Cancel session %1', shortId(view.id))}
        title={trans.__('Cancel queued jobs and end the session now')}
        onClick={() =>
          busy || void actions.confirmSessionAction(view, 'cancel')
        }
      >
        {busy ? trans.__('Working…') : trans.__('Cancel session…')}
      </button>
    </div>
  );
}

function LastUpdated(props: {
  view: ISessionView;
  ticker: Ticker;
  offset: number;
  trans: TranslationBundle;
}): JSX.Element {
  const { view, trans } = props;
  const ref = React.useRef<HTMLDivElement>(null);
  const now = useNow(props.ticker, useOnScreen(ref)); // off screen: no ticks

  const polled = parseTime(view.last_polled_at) ?? NaN;
  const ago = Number.isNaN(polled)
    ? null
    : Math.max(0, Math.round((now - props.offset - polled) / 1000));
  return (
    <div
      ref={ref}
      className={
        'jp-SessionMonitor-updated' + (view.stale ? ' jp-mod-stale' : '')
      }
      role={view.stale ? 'status' : undefined}
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
  if (job.status === 'RUNNING') {
    return trans.__('running');
  }
  if (job.status === 'QUEUED') {
    return trans.__('waiting');
  }
  return formatDuration(job.usage_seconds, trans);
}

function JobTable(props: {
  view: ISessionView;
  actions: SessionActions;
  trans: TranslationBundle;
  filter: string;
}): JSX.Element {
  const { view, actions, trans } = props;
  const { jobs, hidden } = filterJobs(view, props.filter);
  useSignalVersion(actions.busyChanged); // a job's Cancel shows its request in flight
  const [status, setStatus] = React.useState<string | null>(null);
  const [limit, setLimit] = React.useState(JOB_PAGE);
  // The session as it is now, for a job's "cell" link; one function, so job rows stay memoised.
  const latest = React.useRef(view);
  latest.current = view;
  const goToCell = React.useCallback(
    (job: IJobView) => void actions.goToCell(latest.current, job),
    [actions]
  );
  const ordered = React.useMemo(() => orderJobs(jobs), [jobs]);
  const chosen =
    status === null ? ordered : ordered.filter(job => job.status === status);
  const shown = chosen.slice(0, limit);
  const more = chosen.length - shown.length;
  const today = new Date().toDateString();
  // The same elements at every render: React leaves them alone.
  const head = React.useMemo(
    () => (
      <>
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
      </>
    ),
    [view.id, trans]
  );
  const choose = (next: string | null): void => {
    setStatus(next);
    setLimit(JOB_PAGE);
  };
  const hiddenLine = hidden > 0 && (
    <p className="jp-SessionMonitor-muted" data-testid="jobs-hidden">
      {trans._n(
        '%1 job hidden by the filter',
        '%1 jobs hidden by the filter',
        hidden
      )}
    </p>
  );
  if (!jobs.length && hiddenLine) {
    return hiddenLine;
  }
  if (!jobs.length) {
    return (
      <p className="jp-SessionMonitor-muted">
        {trans.__('No jobs yet. Primitives run in this session add them here.')}
      </p>
    );
  }
  return (
    <>
      <StatusFilter
        jobs={jobs}
        status={status}
        onChoose={choose}
        trans={trans}
      />
      {shown.length === 0 && (
        <p className="jp-SessionMonitor-muted" data-testid="jobs-none">
          {trans.__('No job has that status now.')}
        </p>
      )}
      <table className="jp-SessionMonitor-jobs" hidden={shown.length === 0}>
        {head}
        <tbody>
          {shown.map(job => (
            <JobRow
              key={job.id}
              job={job}
              inNotebook={Boolean(view.notebook_path)}
              today={today}
              busy={actions.busy(job.id)}
              onGoToCell={goToCell}
              actions={actions}
              trans={trans}
            />
          ))}
        </tbody>
      </table>
      {more > 0 && (
        <p className="jp-SessionMonitor-moreJobs" data-testid="jobs-more">
          <span>
            {trans.__('Showing %1 of %2 jobs.', shown.length, chosen.length)}
          </span>{' '}
          <button
            type="button"
            className="jp-SessionMonitor-linkButton"
            onClick={() => setLimit(limit + JOB_PAGE)}
          >
            {trans._n('Show %1 more', 'Show %1 more', Math.min(more, JOB_PAGE))}
          </button>
          {more > JOB_PAGE && (
            <>
              {' · '}
              <button
                type="button"
                className="jp-SessionMonitor-linkButton"
                onClick={() => setLimit(Number.POSITIVE_INFINITY)}
              >
                {trans.__('Show all %1', chosen.length)}
              </button>
            </>
          )}
        </p>
      )}
      {hiddenLine}
    </>
  );
}

/** Whether two job views hold the same values (a pushed change parses every job anew). */
function sameJob(a: IJobView, b: IJobView): boolean {
  if (a === b) {
    return true;
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    const x = (a as unknown as Record<string, unknown>)[key];
    const y = (b as unknown as Record<string, unknown>)[key];
    if (
      x !== y &&
      (typeof x !== 'object' ||
        typeof y !== 'object' ||
        x === null ||
        y === null ||
        JSON.stringify(x) !== JSON.stringify(y))
    ) {
      return false;
    }
  }
  return true;
}

/**
 * One job of the table; it renders again only when the job's values change (or whether a cancel
 * is in flight), not whenever its session does.
 */
const JobRow = React.memo(
  function JobRow(props: {
    job: IJobView;
    /** The session has a notebook: a job's cell can be shown. */
    inNotebook: boolean;
    /** Today's date: a time from another day shows its date (`clockTime`). */
    today: string;
    busy: boolean;
    onGoToCell: (job: IJobView) => void;
    actions: SessionActions;
    trans: TranslationBundle;
  }): JSX.Element {
    const { job, actions, trans } = props;
    const cancelLabel =
      jobCancellable(job) && trans.__('Cancel job %1', shortId(job.id));
    return (
      <tr data-job-id={job.id}>
        <td>
          <CopyId
            id={job.id}
            trans={trans}
            label={trans.__('Copy job id %1', job.id)}
          />{' '}
          <span className="jp-SessionMonitor-muted">{job.program_id}</span>
          <div className="jp-SessionMonitor-muted">
            <span className="jp-SessionMonitor-srOnly">
              {trans.__('created')}{' '}
            </span>
            {clockTime(job.created)}
          </div>
          {job.cell && props.inNotebook && (
            <button
              type="button"
              className="jp-SessionMonitor-linkButton jp-SessionMonitor-muted"
              onClick={() => props.onGoToCell(job)}
              title={trans.__('Show the cell that submitted this job')}
            >
              {job.cell.execution_count !== null
                ? trans.__('cell [%1]', job.cell.execution_count)
                : trans.__('cell')}
            </button>
          )}
          {job.tags.length > 0 && (
            <div role="group" aria-label={trans.__('Tags')}>
              {job.tags.map(tag => (
                <span className="jp-SessionMonitor-tag" key={tag}>
                  {tag}
                </span>
              ))}
            </div>
          )}
          {jobReasonText(job) && (
            <div
              className="jp-SessionMonitor-jobReason"
              data-testid="job-reason"
              title={jobReasonText(job)!}
            >
              <span className="jp-SessionMonitor-srOnly">
                {job.status === 'ERROR'
                  ? trans.__('failed because')
                  : trans.__('cancelled because')}{' '}
              </span>
              {jobReasonText(job)}
            </div>
          )}
        </td>
        <td>
          <div
            className={`jp-SessionMonitor-jobStatus jp-mod-${job.status.toLowerCase()}`}
            data-testid="job-status"
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
          {cancelLabel && (
            <button
              type="button"
              className="jp-SessionMonitor-iconButton jp-SessionMonitor-jobCancel"
              aria-disabled={props.busy}
              aria-label={cancelLabel}
              title={cancelLabel}
              onClick={() => props.busy || void actions.confirmJobCancel(job)}
            >
              {ICONS.stop}
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
    );
  },
  (before, after) =>
    sameJob(before.job, after.job) &&
    before.inNotebook === after.inNotebook &&
    before.today === after.today &&
    before.busy === after.busy &&
    before.onGoToCell === after.onGoToCell &&
    before.actions === after.actions &&
    before.trans === after.trans
);

/**
 * The job counts per status, as toggles: pressing one lists only the jobs with that status,
 * "all" lists every job again. Shown when the jobs have more than one status.
 */
function StatusFilter(props: {
  jobs: readonly IJobView[];
  status: string | null;
  onChoose: (status: string | null) => void;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { status, onChoose, trans } = props;
  const counts = countJobs(props.jobs);
  if (status !== null && !counts.some(entry => entry.status === status)) {
    counts.push({ status, count: 0 }); // keep the pressed one, so it can be let go
  }
  if (counts.length < 2 && status === null) {
    return null;
  }
  return (
    <div
      role="group"
      aria-label={trans.__('Show jobs by status')}
      className="jp-SessionMonitor-statusFilter"
      data-testid="job-status-filter"
    >
      <button
        type="button"
        className="jp-SessionMonitor-statusChip"
        aria-pressed={status === null}
        onClick={() => onChoose(null)}
      >
        {trans.__('all %1', props.jobs.length)}
      </button>
      {counts.map(entry => (
        <button
          key={entry.status}
          type="button"
          className={`jp-SessionMonitor-statusChip jp-mod-${entry.status.toLowerCase()}`}
          aria-pressed={status === entry.status}
          onClick={() =>
            onChoose(status === entry.status ? null : entry.status)
          }
        >
          {jobCountText(entry.status, entry.count, trans)}
        </button>
      ))}
    </div>
  );
}

/** The receipt, and the cell that opened the session. */
function RowLinks(props: {
  view: ISessionView;
  actions: SessionActions;
  trans: TranslationBundle;
}): JSX.Element {
  const { view, actions, trans } = props;
  const cell = view.cell;
  return (
    <div className="jp-SessionMonitor-rowLinks">
      <button
        type="button"
        className="jp-SessionMonitor-linkButton"
        onClick={() => void actions.showReceipt(view)}
        data-testid="receipt-button"
      >
        {isClosed(view) ? trans.__('Receipt…') : trans.__('Receipt so far…')}
      </button>
      {cell && view.notebook_path && (
        <button
          type="button"
          className="jp-SessionMonitor-linkButton"
          onClick={() => void actions.goToCell(view)}
          title={trans.__('Show the cell that opened this session')}
          data-testid="go-to-cell"
        >
          {cell.execution_count !== null
            ? trans.__('Go to cell [%1]', cell.execution_count)
            : trans.__('Go to cell')}
        </button>
      )}
    </div>
  );
}

/** An ISO 8601 time as the service writes them: kept on one line. */
export function isTimestamp(value: unknown): boolean {
  return (
    typeof value === 'string' &&
    /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?$/.test(value)
  );
}

function detailValue(value: unknown): string {
  if (value === null || value === undefined) {
    return '—';
  }
  if (typeof value === 'object') {
    return JSON.stringify(value);
  }
  return String(value);
}

function Details(props: {
  view: ISessionView;
  trans: TranslationBundle;
}): JSX.Element {
  // The list exists only while the block is open: closed, it is neither shown nor read out, and
  // a busy session's change would otherwise render and format every value of it again.
  const [open, setOpen] = React.useState(false);
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
                <dd className={isTimestamp(value) ? 'jp-mod-time' : undefined}>
                  {detailValue(value)}
                </dd>
              </React.Fragment>
            ))}
        </dl>
      )}
    </details>
  );
}

/**
 * The session's timeline from `GET sessions/{id}/timeline`, fetched again when its state or a
 * job's status changes (a job's times are known once it is final). A burst of such changes (a
 * poll that finds several jobs finished) is one request: each waits `REFETCH_MS` for the next,
 * and none waits longer than `REFETCH_MAX_MS` after the first change not yet fetched.
 */
export function useTimeline(
  view: ISessionView,
  fetchTimeline: (id: string) => Promise<ISessionView>
): { full: ISessionView | null; error: string | null } {
  const [full, setFull] = React.useState<ISessionView | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const fetched = React.useRef(false);
  const pendingSince = React.useRef<number | null>(null);
  const summary = JSON.stringify(view.jobs_summary ?? {});
  const key = `${view.id}|${view.state}|${view.accepting_jobs}|${summary}`;
  React.useEffect(() => {
    let cancelled = false;
    const now = Date.now();
    pendingSince.current ??= now;
    const wait = fetched.current
      ? Math.min(REFETCH_MS, pendingSince.current + REFETCH_MAX_MS - now)
      : 0;
    const timer = setTimeout(
      () => {
        fetched.current = true;
        pendingSince.current = null;
        fetchTimeline(view.id).then(
          answer => {
            if (!cancelled) {
              setFull(answer);
              setError(null);
            }
          },
          (reason: Error) => {
            if (!cancelled) {
              setError(reason.message);
            }
          }
        );
      },
      Math.max(0, wait)
    );
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [key]);
  return { full, error };
}

/** How long a timeline waits for more changes before fetching itself again, ms. */
export const REFETCH_MS = 150;
/** The longest a change waits for its timeline to be fetched while more keep coming, ms. */
export const REFETCH_MAX_MS = 1000;

function Timeline(props: {
  view: ISessionView;
  fetchOne: (id: string) => Promise<ISessionView>;
  ticker: Ticker;
  offset: number;
  trans: TranslationBundle;
}): JSX.Element {
  const { view, fetchOne, ticker, offset, trans } = props;
  const { full, error } = useTimeline(view, fetchOne);
  return (
    <TimelineFigure
      full={full}
      error={error}
      ticker={ticker}
      offset={offset}
      trans={trans}
    />
  );
}

/**
 * A pushed change re-renders the row; the timeline is drawn from what it fetched, so it renders
 * again only when that, or the clock offset, changes (the picture keeps its own clock).
 */
const TimelineFigure = React.memo(function TimelineFigure(props: {
  full: ISessionView | null;
  error: string | null;
  ticker: Ticker;
  offset: number;
  trans: TranslationBundle;
}): JSX.Element {
  const { full, error, trans } = props;
  const timeline: ITransition[] | null = full ? (full.timeline ?? []) : null;
  return (
    <div className="jp-SessionMonitor-timeline">
      <h4>{trans.__('Timeline')}</h4>
      {error && <p className="jp-SessionMonitor-muted">{error}</p>}
      {timeline === null && !error && (
        <p className="jp-SessionMonitor-muted">{trans.__('Loading…')}</p>
      )}
      {full && timeline && (
        <>
          <TimelinePicture
            view={full}
            transitions={full.timeline}
            ticker={props.ticker}
            offset={props.offset}
            trans={trans}
          />
          <p className="jp-SessionMonitor-legend jp-SessionMonitor-muted">
            {(
              [
                ['active', trans.__('active')],
                ['inactive', trans.__('inactive')],
                ['idle', trans.__('billed while idle')],
                ['queued', trans.__('queued')],
                ['done', trans.__('ran')],
                ['error', trans.__('failed')]
              ] as const
            ).map(([kind, label]) => (
              // A swatch and its label wrap together, never apart.
              <span key={kind} className="jp-SessionMonitor-legendItem">
                <span className={`jp-SessionMonitor-swatch jp-mod-${kind}`} />
                {label}
              </span>
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
});
