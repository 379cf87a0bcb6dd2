import * as React from 'react';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { SessionActions } from '../../actions';
import { actionsFor, isLost, shortId } from '../../present';
import type { ISessionView } from '../../store/sessionStore';

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
