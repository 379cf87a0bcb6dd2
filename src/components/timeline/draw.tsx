import * as React from 'react';
import type { TranslationBundle } from '@jupyterlab/translation';
import { clockTime, formatDuration } from '../../present';
import type { ISessionView, ITransition } from '../../store/sessionStore';
import { ITimelineModel, timelineModel } from './model';

export const WIDTH = 600;

/** A moment (ms) as the page shows times (`clockTime`). */
export function time(ms: number): string {
  return clockTime(new Date(ms).toISOString());
}
export const NO_TRANSITIONS: ITransition[] = [];

/**
 * What a picture draws that does not depend on the time: the bands, gaps and bars, in seconds
 * since the session started. The picture scales it to its width and clips it at `now`, so the
 * clock moves only the right edge (a transform and a clip width), not hundreds of bars. What is
 * still going on (the current band, a queued or running job, the idle gap now) is drawn to
 * `horizon` and shows up to `now`; once `now` passes the horizon, the axis grows by half (the
 * minimum widths, a share of it, would shrink too far), or the session's data changes, it is
 * drawn again.
 */
export interface IDrawing {
  view: ISessionView;
  transitions: ITransition[];
  trans: TranslationBundle;
  compact: boolean;
  model: ITimelineModel;
  horizon: number;
  /** The axis's length when drawn, ms: minimum widths are a share of it. */
  span: number;
  height: number;
  layer: JSX.Element;
}

/** Deadlines ahead extend the axis a little; a far one is named at the right edge instead. */
export function axisOf(
  model: ITimelineModel,
  end: number
): { end: number; markers: ITimelineModel['markers'] } {
  const span = Math.max(1000, end - model.start);
  const markers = model.markers.filter(m => m.at <= end + span * 0.25);
  return { end: Math.max(end, ...markers.map(m => m.at)), markers };
}

/** The most jobs the compact picture draws one bar each. */
const COMPACT_ROWS_MAX = 7;
/** The height of each of the compact picture's two aggregate rows (queued, runs). */
const AGGREGATE_ROW = 8;

/** A job's title: its id and tags, and what happened to it when. */
function jobTitle(
  bar: ITimelineModel['jobs'][number],
  trans: TranslationBundle
): string {
  const tags = bar.job.tags.length ? ` [${bar.job.tags.join(', ')}]` : '';
  return trans.__(
    'Job %1%2: created %3, %4, %5',
    bar.job.id,
    tags,
    time(bar.created),
    bar.started === null
      ? bar.open
        ? trans.__('not started yet')
        : trans.__('never started')
      : trans.__('started %1', time(bar.started)),
    bar.open
      ? bar.job.status
      : trans.__('%1 %2', bar.job.status, time(bar.finished))
  );
}

/**
 * The queue over time as steps: `[from, to, waiting]` for each stretch in which the number of
 * queued jobs stays the same (a job waits from its creation until it starts, or ends unstarted).
 */
export function queueSteps(
  jobs: ITimelineModel['jobs']
): { from: number; to: number; waiting: number }[] {
  const changes: [number, number][] = [];
  for (const bar of jobs) {
    const end = bar.started ?? bar.finished;
    if (end > bar.created) {
      changes.push([bar.created, 1], [end, -1]);
    }
  }
  changes.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const steps: { from: number; to: number; waiting: number }[] = [];
  let waiting = 0;
  for (let index = 0; index < changes.length; index++) {
    const [at, change] = changes[index];
    waiting += change;
    const next = changes[index + 1]?.[0];
    if (next !== undefined && next > at && waiting > 0) {
      steps.push({ from: at, to: next, waiting });
    }
  }
  return steps;
}

/** The compact picture's two rows for many jobs: the queue as a band, and each job's run. */
function queuedAndRuns(
  model: ITimelineModel,
  s: (t: number) => number,
  unit: number,
  top: number,
  row: number,
  trans: TranslationBundle
): JSX.Element {
  const steps = queueSteps(model.jobs);
  const most = Math.max(1, ...steps.map(step => step.waiting));
  const runTop = top + row;
  const h = row - 1;
  return (
    <>
      <g data-testid="queued-band">
        <title>
          {trans._n(
            'Queued: at most %1 job waiting at once',
            'Queued: at most %1 jobs waiting at once',
            most
          )}
        </title>
        {steps.map((step, index) => {
          const tall = Math.max(1, (h * step.waiting) / most);
          return (
            <rect
              key={index}
              className="jp-SessionMonitor-jobQueued"
              x={s(step.from)}
              y={top + h - tall}
              width={Math.max(unit, s(step.to) - s(step.from))}
              height={tall}
            >
              <title>
                {trans._n(
                  '%1 job queued from %2 to %3',
                  '%1 jobs queued from %2 to %3',
                  step.waiting,
                  time(step.from),
                  time(step.to)
                )}
              </title>
            </rect>
          );
        })}
      </g>
      {model.jobs.map(bar =>
        bar.started === null && bar.outcome !== 'error' ? null : (
          <g key={bar.job.id} data-job-id={bar.job.id}>
            <title>{jobTitle(bar, trans)}</title>
            {bar.started !== null && (
              <rect
                className={`jp-SessionMonitor-jobRun jp-mod-${bar.outcome}`}
                x={s(bar.started)}
                y={runTop}
                width={Math.max(1.5 * unit, s(bar.finished) - s(bar.started))}
                height={h}
              />
            )}
            {bar.outcome === 'error' && (
              <rect
                className="jp-SessionMonitor-jobFailedMark"
                x={s(bar.finished) - unit}
                y={runTop}
                width={3 * unit}
                height={h}
              />
            )}
          </g>
        )
      )}
    </>
  );
}

export function draw(
  view: ISessionView,
  transitions: ITransition[],
  now: number,
  trans: TranslationBundle,
  compact: boolean
): IDrawing | null {
  const first = timelineModel(view, transitions, now);
  if (!first) {
    return null;
  }
  const axisEnd = axisOf(first, first.end).end;
  // Open items reach this far (the axis is at least half as long again by then), whatever the
  // clock says now: a state change stamped a moment ahead of this page's clock is drawn too.
  const horizon = first.open
    ? axisEnd + Math.max(30_000, (axisEnd - first.start) / 2)
    : first.end;
  const model = first.open
    ? (timelineModel(view, transitions, horizon) ?? first)
    : first;
  // Seconds since the start; `unit` is one of the picture's 600 units across, now.
  const s = (t: number) => (t - model.start) / 1000;
  const unit = Math.max(1000, axisEnd - model.start) / 1000 / WIDTH;
  const bandHeight = compact ? 8 : 12;
  const count = model.jobs.length;
  // In the notebook's compact form, many jobs are drawn as two rows: how many wait (a band whose
  // height follows the queue) and the runs one after another. One bar per job there drew a
  // 150-job session as a tall grey triangle.
  const aggregate = compact && count > COMPACT_ROWS_MAX;
  const rowHeight = aggregate
    ? AGGREGATE_ROW
    : compact
      ? Math.max(1.5, Math.min(4, 28 / Math.max(1, count)))
      : Math.max(2, Math.min(10, 180 / Math.max(1, count)));
  const rows = aggregate ? 2 : count;
  const jobsTop = bandHeight + 4;
  const height = jobsTop + rows * rowHeight + 2;
  const layer = (
    <>
      {model.bands.map((band, index) => (
        <rect
          key={`band-${index}`}
          className={`jp-SessionMonitor-band jp-mod-${band.state}`}
          x={s(band.from)}
          y={0}
          width={Math.max(unit, s(band.to) - s(band.from))}
          height={bandHeight}
        >
          <title>
            {band.open
              ? trans.__('%1 since %2', band.state, time(band.from))
              : trans.__(
                  '%1 from %2 to %3 (%4)',
                  band.state,
                  time(band.from),
                  time(band.to),
                  formatDuration((band.to - band.from) / 1000, trans)
                )}
          </title>
        </rect>
      ))}
      {model.idle.map((gap, index) => (
        <rect
          key={`idle-${index}`}
          className="jp-SessionMonitor-idleGap"
          data-testid="idle-gap"
          x={s(gap.from)}
          y={0}
          width={Math.max(unit, s(gap.to) - s(gap.from))}
          height={jobsTop + rows * rowHeight}
        >
          <title>
            {gap.open
              ? trans.__('Billed while idle since %1', time(gap.from))
              : trans.__(
                  'Billed while idle: %1 (%2 to %3)',
                  formatDuration((gap.to - gap.from) / 1000, trans),
                  time(gap.from),
                  time(gap.to)
                )}
          </title>
        </rect>
      ))}
      {aggregate
        ? queuedAndRuns(model, s, unit, jobsTop, rowHeight, trans)
        : model.jobs.map((bar, index) => {
            const y = jobsTop + index * rowHeight;
            const h = Math.max(1, rowHeight - (rowHeight > 3 ? 1 : 0));
            const what = jobTitle(bar, trans);
            const queuedEnd = bar.started ?? bar.finished;
            return (
              <g key={bar.job.id} data-job-id={bar.job.id}>
                <title>{what}</title>
                <rect
                  className="jp-SessionMonitor-jobQueued"
                  x={s(bar.created)}
                  y={y}
                  width={Math.max(unit, s(queuedEnd) - s(bar.created))}
                  height={h}
                />
                {bar.started !== null && (
                  <rect
                    className={`jp-SessionMonitor-jobRun jp-mod-${bar.outcome}`}
                    x={s(bar.started)}
                    y={y}
                    width={Math.max(
                      1.5 * unit,
                      s(bar.finished) - s(bar.started)
                    )}
                    height={h}
                  />
                )}
                {bar.outcome === 'error' && (
                  <rect
                    className="jp-SessionMonitor-jobFailedMark"
                    x={s(bar.finished) - unit}
                    y={y}
                    width={3 * unit}
                    height={h}
                  />
                )}
              </g>
            );
          })}
    </>
  );
  const span = Math.max(1000, axisEnd - model.start);
  return {
    view,
    transitions,
    trans,
    compact,
    model,
    horizon,
    span,
    height,
    layer
  };
}
