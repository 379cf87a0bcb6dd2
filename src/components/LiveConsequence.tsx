import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { useSignalVersion } from '../hooks';
import type { MonitorModel } from '../store/model';
import { clockTime, consequence, SessionAction } from '../present';
import type { ISessionView } from '../store/sessionStore';
import { parseTime } from '../timer';

/** The newer of two views of one session, by when the server last read the service. */
export function newerView(
  a: ISessionView | undefined,
  b: ISessionView | null
): ISessionView | null {
  if (!a || !b) {
    return a ?? b;
  }
  const at = (v: ISessionView) => parseTime(v.last_polled_at) ?? 0;
  return at(b) > at(a) ? b : a;
}

/**
 * A confirmation's sentence that stays true while the dialog is open: it asks the server to read
 * the service at once, then follows every pushed change. It says when its numbers are from, and
 * whether the check with the service is still under way or failed.
 */
export function LiveConsequence(props: {
  model: MonitorModel;
  sessionId: string;
  action: SessionAction;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, sessionId, action, trans } = props;
  useSignalVersion(model.store.changed);
  const [fresh, setFresh] = React.useState<ISessionView | null>(null);
  const [checking, setChecking] = React.useState(true);
  const [failure, setFailure] = React.useState<string | null>(null);
  React.useEffect(() => {
    let gone = false;
    model.fetchFresh(sessionId).then(
      view => {
        if (!gone) {
          setFresh(view);
          setChecking(false);
        }
      },
      (error: Error) => {
        if (!gone) {
          setFailure(error.message);
          setChecking(false);
        }
      }
    );
    return () => {
      gone = true;
    };
  }, [sessionId]);
  const view = newerView(model.get(sessionId), fresh);
  if (!view) {
    return <p>{trans.__('This session is no longer tracked.')}</p>;
  }
  let when: string;
  if (checking) {
    when = trans.__('Checking with the service…');
  } else if (failure) {
    when = trans.__(
      'Could not check with the service (%1). These numbers are from %2.',
      failure,
      clockTime(view.last_polled_at)
    );
  } else if (view.stale && view.error) {
    when = trans.__(
      'The service did not answer (%1). These numbers are from %2.',
      view.error.message,
      clockTime(view.last_polled_at)
    );
  } else {
    when = trans.__(
      'As the service said at %1; updated while this is open.',
      clockTime(view.last_polled_at)
    );
  }
  return (
    <div className="jp-SessionMonitor-confirm">
      <p data-testid="confirm-consequence" aria-live="polite">
        {consequence(view, action, trans)}
      </p>
      <p
        className="jp-SessionMonitor-muted"
        data-testid="confirm-freshness"
        aria-busy={checking}
      >
        {when}
      </p>
    </div>
  );
}
