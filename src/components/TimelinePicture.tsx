import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { clockTime, formatDuration } from '../present';
import type { IJobView, ISessionView, ITransition } from '../sessionStore';
import { parseTime } from '../timer';

/**
 * A session drawn on a time axis (SVG, coloured by `--jp-*` variables so that it reads in light
 * and dark themes): its state bands (open, active, inactive), each job as a bar (queued, then
 * running, coloured by outcome, failed ones marked), the billed idle gaps (active with no job
 * running), and markers for the deadlines still ahead. Every bar and band has a `<title>`: the
 * browser shows it on hover and screen readers read it.
 */

export interface ITimelineModel {
  start: number;
  end: number;
  bands: { from: number; to: number; state: string }[];
  jobs: {
    job: IJobView;
    created: number;
    started: number | null;
    finished: number;
    outcome: string;
  }[];
  idle: { from: number; to: number }[];
  markers: { at: number; kind: 'max_ttl' | 'interactive_ttl' | 'idle_close' }[];
}

/** The picture's content as numbers (ms), from a view with its timeline, at `now` (server ms). */
export function timelineModel(
  view: ISessionView,
  transitions: ITransition[],
  now: number
): ITimelineModel | null {
  const details = view.details ?? {};
  const closedAt = parseTime(details.closed_at as string | null | undefined);
  const created =
    parseTime(view.created_at) ??
    parseTime(transitions[0]?.at) ??
    parseTime(view.tracked_at);
  if (created === null) {
    return null;
  }
  const end = closedAt ?? now;
  // The service's own state changes when it lists them (details.timestamps), else what the
  // monitor saw.
  const stamps = Array.isArray(details.timestamps)
    ? (details.timestamps as { status?: string; timestamp?: string }[])
        .map(t => ({ at: parseTime(t.timestamp), state: t.status ?? '' }))
        .filter((t): t is { at: number; state: string } => t.at !== null)
    : [];
  const steps = stamps.length
    ? stamps
    : transitions
        .map(t => ({ at: parseTime(t.at), state: t.state ?? '' }))
        .filter((t): t is { at: number; state: string } => t.at !== null);
  const bands: ITimelineModel['bands'] = [];
  steps.forEach((step, index) => {
    const to = index + 1 < steps.length ? steps[index + 1].at : end;
    if (step.state !== 'closed' && to > step.at) {
      bands.push({ from: step.at, to, state: step.state });
    }
  });
  const lastStarted = parseTime(details.last_job_started as string | undefined);
  const jobs: ITimelineModel['jobs'] = [];
  for (const job of view.jobs ?? []) {
    const jobCreated = parseTime(job.created);
    if (jobCreated === null) {
      continue;
    }
    let started = parseTime(job.started);
    if (started === null && job.status === 'RUNNING') {
      started = lastStarted;
    }
    const finished =
      parseTime(job.finished) ??
      (job.status === 'QUEUED' || job.status === 'RUNNING' ? end : null);
    if (finished === null) {
      continue; // final, but its times are not known yet
    }
    jobs.push({
      job,
      created: jobCreated,
      started,
      finished,
      outcome: job.status.toLowerCase()
    });
  }
  // Billed idle: active bands minus the time some job was running.
  const running = jobs
    .filter(j => j.started !== null)
    .map(j => [j.started as number, j.finished] as const)
    .sort((a, b) => a[0] - b[0]);
  const idle: ITimelineModel['idle'] = [];
  for (const band of bands.filter(b => b.state === 'active')) {
    let cursor = band.from;
    for (const [from, to] of running) {
      if (to <= cursor || from >= band.to) {
        continue;
      }
      if (from > cursor) {
        idle.push({ from: cursor, to: Math.min(from, band.to) });
      }
      cursor = Math.max(cursor, to);
    }
    if (cursor < band.to) {
      idle.push({ from: cursor, to: band.to });
    }
  }
  const markers: ITimelineModel['markers'] = [];
  const deadlines = view.deadlines;
  for (const kind of ['max_ttl', 'interactive_ttl', 'idle_close'] as const) {
    const at = parseTime(deadlines[`${kind}_at`]);
    if (at !== null) {
      markers.push({ at, kind });
    }
  }
  return {
    start: created,
    end,
    bands,
    jobs,
    idle: idle.filter(gap => gap.to - gap.from >= 500),
    markers
  };
}

const WIDTH = 600;

export function TimelinePicture(props: {
  view: ISessionView;
  transitions: ITransition[];
  now: number;
  trans: TranslationBundle;
  compact?: boolean;
}): JSX.Element | null {
  const { view, trans, compact } = props;
  const model = timelineModel(view, props.transitions, props.now);
  if (!model) {
    return null;
  }
  // Deadlines ahead extend the axis a little; a far one is named at the right edge instead.
  const span = Math.max(1000, model.end - model.start);
  const visible = model.markers.filter(m => m.at <= model.end + span * 0.25);
  const axisEnd = Math.max(model.end, ...visible.map(m => m.at));
  const x = (t: number) =>
    ((t - model.start) / (axisEnd - model.start || 1)) * WIDTH;
  const bandHeight = compact ? 8 : 12;
  const count = model.jobs.length;
  const rowHeight = compact
    ? Math.max(1.5, Math.min(4, 28 / Math.max(1, count)))
    : Math.max(2, Math.min(10, 180 / Math.max(1, count)));
  const jobsTop = bandHeight + 4;
  const height = jobsTop + count * rowHeight + 2;
  const label = trans.__(
    'Timeline of session %1: %2 jobs from %3 to %4',
    view.id,
    count,
    clockTime(new Date(model.start).toISOString()),
    clockTime(new Date(model.end).toISOString())
  );
  const time = (ms: number) => clockTime(new Date(ms).toISOString());
  // The width follows the panel; the height stays in pixels, so bars stay readable when narrow.
  const picture = (
    <svg
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
      {model.bands.map((band, index) => (
        <rect
          key={`band-${index}`}
          className={`jp-SessionMonitor-band jp-mod-${band.state}`}
          x={x(band.from)}
          y={0}
          width={Math.max(1, x(band.to) - x(band.from))}
          height={bandHeight}
        >
          <title>
            {trans.__(
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
          x={x(gap.from)}
          y={0}
          width={Math.max(1, x(gap.to) - x(gap.from))}
          height={jobsTop + count * rowHeight}
        >
          <title>
            {trans.__(
              'Billed while idle: %1 (%2 to %3)',
              formatDuration((gap.to - gap.from) / 1000, trans),
              time(gap.from),
              time(gap.to)
            )}
          </title>
        </rect>
      ))}
      {model.jobs.map((bar, index) => {
        const y = jobsTop + index * rowHeight;
        const h = Math.max(1, rowHeight - (rowHeight > 3 ? 1 : 0));
        const tags = bar.job.tags.length ? ` [${bar.job.tags.join(', ')}]` : '';
        const what = trans.__(
          'Job %1%2: created %3, %4, %5',
          bar.job.id,
          tags,
          time(bar.created),
          bar.started === null
            ? trans.__('never started')
            : trans.__('started %1', time(bar.started)),
          trans.__('%1 %2', bar.job.status, time(bar.finished))
        );
        const queuedEnd = bar.started ?? bar.finished;
        return (
          <g key={bar.job.id} data-job-id={bar.job.id}>
            <title>{what}</title>
            <rect
              className="jp-SessionMonitor-jobQueued"
              x={x(bar.created)}
              y={y}
              width={Math.max(1, x(queuedEnd) - x(bar.created))}
              height={h}
            />
            {bar.started !== null && (
              <rect
                className={`jp-SessionMonitor-jobRun jp-mod-${bar.outcome}`}
                x={x(bar.started)}
                y={y}
                width={Math.max(1.5, x(bar.finished) - x(bar.started))}
                height={h}
              />
            )}
            {bar.outcome === 'error' && (
              <rect
                className="jp-SessionMonitor-jobFailedMark"
                x={x(bar.finished) - 1}
                y={y}
                width={3}
                height={h}
              />
            )}
          </g>
        );
      })}
      {visible.map(marker => (
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
        <span>{time(axisEnd)}</span>
      </div>
    </div>
  );
}
