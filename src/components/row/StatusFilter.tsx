import * as React from 'react';
import type { TranslationBundle } from '@jupyterlab/translation';
import { countJobs, jobCountText } from '../../present';
import type { IJobView } from '../../store/sessionStore';

/**
 * The job counts per status, as toggles: pressing one lists only the jobs with that status,
 * "all" lists every job again. Shown when the jobs have more than one status.
 */
export function StatusFilter(props: {
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
