import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import { clockTime } from '../../present';
import type { ISessionView, ITransition } from '../../store/sessionStore';
import { Ticker } from '../../ticker';
import { TimelinePicture } from '../timeline';

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

export function Timeline(props: {
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
