import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import type { SessionActions } from '../../actions';
import { useSignalVersion } from '../../hooks';
import {
  clockTime,
  filterJobs,
  formatDuration,
  jobCancellable,
  JOB_PAGE,
  jobReasonText,
  orderJobs,
  shortId
} from '../../present';
import type { IJobView, ISessionView } from '../../store/sessionStore';
import { StatusFilter } from './StatusFilter';
import { CopyId } from './Summary';
import { ICONS } from './icons';

function jobDuration(job: IJobView, trans: TranslationBundle): string {
  if (job.status === 'RUNNING') {
    return trans.__('running');
  }
  if (job.status === 'QUEUED') {
    return trans.__('waiting');
  }
  return formatDuration(job.usage_seconds, trans);
}

export function JobTable(props: {
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
