import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { useSignalVersion } from '../hooks';
import type { MonitorModel } from '../store/model';
import {
  clockTime,
  isOpen,
  notebookName,
  pendingJobs,
  shortId
} from '../present';
import type { ISessionView } from '../store/sessionStore';
import { newerView } from './LiveConsequence';

/**
 * What "Close all" will do, session by session: read from the service when the dialog opens
 * (one fresh read per open session) and kept current by pushed changes while it is open.
 */
export function CloseAllConsequence(props: {
  model: MonitorModel;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, trans } = props;
  useSignalVersion(model.store.changed);
  const [fresh, setFresh] = React.useState<ReadonlyMap<string, ISessionView>>(
    () => new Map()
  );
  const [checking, setChecking] = React.useState(true);
  const [failures, setFailures] = React.useState<string[]>([]);
  React.useEffect(() => {
    let gone = false;
    const ids = model.store.open.map(v => v.id);
    void Promise.allSettled(ids.map(id => model.fetchFresh(id))).then(
      results => {
        if (gone) {
          return;
        }
        const found = new Map<string, ISessionView>();
        const failed: string[] = [];
        results.forEach((result, index) => {
          if (result.status === 'fulfilled') {
            found.set(ids[index], result.value);
          } else {
            failed.push(
              `${shortId(ids[index])}: ${(result.reason as Error).message}`
            );
          }
        });
        setFresh(found);
        setFailures(failed);
        setChecking(false);
      }
    );
    return () => {
      gone = true;
    };
  }, [model]);
  const views = [...model.store.sessions.values()]
    .map(view => newerView(view, fresh.get(view.id) ?? null) ?? view)
    .filter(isOpen);
  if (!views.length) {
    return (
      <p data-testid="close-all-consequence">
        {trans.__('No session is open.')}
      </p>
    );
  }
  const totals = views.reduce(
    (sum, view) => {
      const { queued, running } = pendingJobs(view);
      return { queued: sum.queued + queued, running: sum.running + running };
    },
    { queued: 0, running: 0 }
  );
  return (
    <div
      className="jp-SessionMonitor-confirm"
      data-testid="close-all-consequence"
    >
      <p aria-live="polite">
        {trans._n(
          '%1 open session stops accepting jobs.',
          '%1 open sessions stop accepting jobs.',
          views.length
        )}{' '}
        {totals.queued + totals.running > 0
          ? trans.__(
              'Their %1 queued and %2 running jobs still run (and are billed); each session closes when its jobs are done.',
              totals.queued,
              totals.running
            )
          : trans.__('None has a job queued or running: they close at once.')}
      </p>
      <ul className="jp-SessionMonitor-closeAllList">
        {views.map(view => {
          const { queued, running } = pendingJobs(view);
          return (
            <li key={view.id} data-session-id={view.id}>
              <code>{shortId(view.id)}</code> {view.backend ?? ''}{' '}
              {view.notebook_path
                ? `(${notebookName(view.notebook_path)})`
                : ''}
              {' — '}
              {trans.__('%1 queued, %2 running', queued, running)}
              <span className="jp-SessionMonitor-muted">
                {' '}
                {trans.__('as of %1', clockTime(view.last_polled_at))}
              </span>
            </li>
          );
        })}
      </ul>
      <p className="jp-SessionMonitor-muted" aria-busy={checking}>
        {checking
          ? trans.__('Checking with the service…')
          : failures.length
            ? trans.__('Could not check: %1', failures.join('; '))
            : trans.__(
                'As the service said just now; updated while this is open.'
              )}
      </p>
    </div>
  );
}
