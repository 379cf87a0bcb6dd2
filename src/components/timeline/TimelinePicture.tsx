import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import type { ISessionView, ITransition } from '../../store/sessionStore';
import { Ticker, useNow, useOnScreen } from '../../ticker';
import { IDrawing, NO_TRANSITIONS, WIDTH, axisOf, draw, time } from './draw';
import { timelineOpen } from './model';

/**
 * A session drawn on a time axis (SVG, coloured by `--jp-*` variables so that it reads in light
 * and dark themes): its state bands (open, active, inactive), each job as a bar (queued, then
 * running, coloured by outcome, failed ones marked), the billed idle gaps (active with no job
 * running), and markers for the deadlines still ahead. Every bar and band has a `<title>`: the
 * browser shows it on hover and screen readers read it.
 */

export function TimelinePicture(props: {
  view: ISessionView;
  transitions?: ITransition[];
  ticker: Ticker;
  /** How far this page's clock is ahead of the server's, ms (`clockOffset`). */
  offset: number;
  trans: TranslationBundle;
  compact?: boolean;
}): JSX.Element | null {
  const { view, trans, ticker } = props;
  const compact = props.compact ?? false;
  const transitions = props.transitions ?? NO_TRANSITIONS;
  const ref = React.useRef<SVGSVGElement>(null);
  const clipId = `jp-SessionMonitor-clip${React.useId().replace(/[^\w-]/g, '')}`;
  const cached = React.useRef<IDrawing | null>(null);
  // The right edge follows the clock while the session is open and the picture on screen.
  const live = timelineOpen(view);
  const now = useNow(ticker, useOnScreen(ref) && live) - props.offset;
  let drawing = cached.current;
  if (
    !drawing ||
    drawing.view !== view ||
    drawing.transitions !== transitions ||
    drawing.trans !== trans ||
    drawing.compact !== compact ||
    (drawing.model.open &&
      // Past what it drew, or the axis half as long again: the thinnest bars would fade.
      (now > drawing.horizon || now - drawing.model.start > 1.5 * drawing.span))
  ) {
    drawing = draw(view, transitions, now, trans, compact);
    cached.current = drawing;
  }
  if (!drawing) {
    return null;
  }
  const { model, height } = drawing;
  const end = model.open ? Math.max(now, model.start) : model.end;
  const axis = axisOf(model, end);
  const seconds = Math.max(0.001, (axis.end - model.start) / 1000);
  const x = (t: number) => ((t - model.start) / 1000 / seconds) * WIDTH;
  const count = model.jobs.length;
  const label = model.open
    ? trans.__(
        'Timeline of session %1: %2 jobs since %3',
        view.id,
        count,
        time(model.start)
      )
    : trans.__(
        'Timeline of session %1: %2 jobs from %3 to %4',
        view.id,
        count,
        time(model.start),
        time(model.end)
      );
  // The width follows the panel; the height stays in pixels, so bars stay readable when narrow.
  const picture = (
    <svg
      ref={ref}
      className={
        'jp-SessionMonitor-timelinePicture' + (compact ? ' jp-mod-compact' : '')
      }
      viewBox={`0 0 ${WIDTH} ${height}`}
      preserveAspectRatio="none"
      style={{ height: `${height}px` }}
      role="img"
      aria-label={label}
      data-testid="timeline-picture"
      data-jobs={count}
    >
      <title>{label}</title>
      <defs>
        <clipPath id={clipId}>
          <rect
            x={0}
            y={0}
            width={(end - model.start) / 1000}
            height={height}
          />
        </clipPath>
      </defs>
      <g transform={`scale(${WIDTH / seconds} 1)`} clipPath={`url(#${clipId})`}>
        {drawing.layer}
      </g>
      {axis.markers.map(marker => (
        <line
          key={marker.kind}
          className={`jp-SessionMonitor-marker jp-mod-${marker.kind}`}
          data-testid={`marker-${marker.kind}`}
          x1={x(marker.at)}
          x2={x(marker.at)}
          y1={0}
          y2={height}
        >
          <title>
            {
              {
                max_ttl: trans.__('Max TTL at %1', time(marker.at)),
                interactive_ttl: trans.__(
                  'Deactivates at %1 unless a job is queued',
                  time(marker.at)
                ),
                idle_close: trans.__(
                  'Closes at %1 unless a job is submitted',
                  time(marker.at)
                )
              }[marker.kind]
            }
          </title>
        </line>
      ))}
    </svg>
  );
  if (compact) {
    return picture;
  }
  return (
    <div className="jp-SessionMonitor-timelineFigure">
      {picture}
      <div className="jp-SessionMonitor-axis" aria-hidden="true">
        <span>{time(model.start)}</span>
        <span>{time(axis.end)}</span>
      </div>
    </div>
  );
}
