import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import type { SessionActions } from '../actions';
import { useSignalVersion } from '../hooks';
import type { MonitorModel } from '../store/model';
import { isOpen, modeText, shortId } from '../present';
import type { ISessionView } from '../store/sessionStore';
import { Countdown } from './Countdown';
import { BillingLine, BudgetLine, FitLine } from './Money';
import { useTimeline } from './row';
import { TimelinePicture } from './timeline';
import { SessionButtons, SessionOutcome, StatusBadge } from './row';

export interface ISessionCardProps {
  sessionId: string;
  model: MonitorModel;
  actions: SessionActions;
  trans: TranslationBundle;
  reveal: (sessionId: string) => void;
}

/**
 * One session in a cell's output: the same store, words and buttons as the sidebar's row, so the
 * two never disagree. Re-renders when the store or a request's busy state changes.
 */
export function SessionCard(props: ISessionCardProps): JSX.Element {
  const { model, actions, trans, sessionId } = props;
  useSignalVersion(model.store.changed);
  useSignalVersion(actions.busyChanged);
  const view = model.store.sessions.get(sessionId);
  const stale = model.store.connection === 'reconnecting';
  if (!view) {
    return (
      <div className="jp-SessionMonitor-card" data-session-id={sessionId}>
        <p className="jp-SessionMonitor-muted" role="status">
          {model.store.connection === 'error'
            ? trans.__(
                'The session monitor is not available: %1',
                model.store.error ?? ''
              )
            : trans.__(
                'Waiting for the monitor to see session %1…',
                shortId(sessionId)
              )}
        </p>
      </div>
    );
  }
  return (
    <div
      className={
        'jp-SessionMonitor-card' + (isOpen(view) ? '' : ' jp-mod-closed')
      }
      data-session-id={sessionId}
      role="group"
      aria-label={trans.__('Qiskit Runtime session %1', shortId(sessionId))}
    >
      <div className="jp-SessionMonitor-summary">
        <StatusBadge view={view} trans={trans} />
        <span className="jp-SessionMonitor-backend">
          {view.backend ?? trans.__('unknown backend')}
        </span>
        <span className="jp-SessionMonitor-mode">{modeText(view, trans)}</span>
        <code title={view.id}>{shortId(view.id)}</code>
        <button
          type="button"
          className="jp-SessionMonitor-notebookLink jp-SessionMonitor-reveal"
          onClick={() => props.reveal(view.id)}
        >
          {trans.__('Show in sidebar')}
        </button>
      </div>
      {isOpen(view) && (
        <Countdown
          view={view}
          ticker={model.ticker}
          offset={model.store.clockOffset}
          trans={trans}
          stale={stale || view.stale}
          withMaxTtl
        />
      )}
      <SessionOutcome view={view} trans={trans} />
      <BillingLine
        view={view}
        ticker={model.ticker}
        offset={model.store.clockOffset}
        trans={trans}
      />
      <BudgetLine
        view={view}
        ticker={model.ticker}
        offset={model.store.clockOffset}
        trans={trans}
      />
      {isOpen(view) && <FitLine view={view} trans={trans} />}
      {(view.jobs ?? []).length > 0 && (
        <CompactTimeline view={view} model={model} trans={trans} />
      )}
      <SessionButtons
        view={view}
        actions={actions}
        busy={actions.busy(view.id)}
        trans={trans}
      />
    </div>
  );
}

/** The session's timeline, small, under the card's numbers. */
function CompactTimeline(props: {
  view: ISessionView;
  model: MonitorModel;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { view, model, trans } = props;
  const fetch = React.useCallback(
    (id: string) => model.fetchTimeline(id),
    [model]
  );
  const { full } = useTimeline(view, fetch);
  if (!full) {
    return null;
  }
  return (
    <TimelinePicture
      view={full}
      transitions={full.timeline}
      ticker={model.ticker}
      offset={model.store.clockOffset}
      trans={trans}
      compact
    />
  );
}
