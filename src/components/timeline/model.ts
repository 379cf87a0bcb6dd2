import { isOpen } from '../../present';
import type {
  IJobView,
  ISessionView,
  ITransition
} from '../../store/sessionStore';
import { parseTime, serviceClock } from '../../timer';

export interface ITimelineModel {
  start: number;
  end: number;
  /** The session is not closed: `end` is `now`, and what is `open` goes on past it. */
  open: boolean;
  bands: { from: number; to: number; state: string; open: boolean }[];
  jobs: {
    job: IJobView;
    created: number;
    started: number | null;
    finished: number;
    outcome: string;
    /** Queued or running at `now`: `finished` is `now`. */
    open: boolean;
  }[];
  idle: { from: number; to: number; open: boolean }[];
  markers: { at: number; kind: 'max_ttl' | 'interactive_ttl' | 'idle_close' }[];
}

/** Whether a session's picture still grows: the service has not closed it and still knows it. */
export function timelineOpen(view: ISessionView): boolean {
  return (
    !parseTime(view.details?.closed_at as string | undefined) && isOpen(view)
  );
}

/** The picture's content as numbers (ms), from a view with its timeline, at `now` (server ms). */
export function timelineModel(
  view: ISessionView,
  transitions: ITransition[],
  now: number
): ITimelineModel | null {
  const details = view.details ?? {};
  // The service's own timestamps, on the server's clock (as `now`, the transitions and the
  // deadlines are).
  const service = serviceClock(view);
  const closedAt = service(details.closed_at as string | null | undefined);
  const created =
    service(view.created_at) ??
    parseTime(transitions[0]?.at) ??
    parseTime(view.tracked_at);
  if (created === null) {
    return null;
  }
  // The service's own state changes when it lists them (details.timestamps), else what the
  // monitor saw.
  const stamps = Array.isArray(details.timestamps)
    ? (details.timestamps as { status?: string; timestamp?: string }[])
        .map(t => ({ at: service(t.timestamp), state: t.status ?? '' }))
        .filter((t): t is { at: number; state: string } => t.at !== null)
    : [];
  const steps = stamps.length
    ? stamps
    : transitions
        .map(t => ({ at: parseTime(t.at), state: t.state ?? '' }))
        .filter((t): t is { at: number; state: string } => t.at !== null);
  // Still going on unless the service closed it or no longer knows it. A session the service
  // lists as closed without a `closed_at` ends at its 'closed' state change, else when it was
  // last read.
  const open = closedAt === null && timelineOpen(view);
  const end = open
    ? now
    : (closedAt ??
      [...steps].reverse().find(step => step.state === 'closed')?.at ??
      parseTime(view.last_polled_at) ??
      now);
  const bands: ITimelineModel['bands'] = [];
  steps.forEach((step, index) => {
    const to = index + 1 < steps.length ? steps[index + 1].at : end;
    if (step.state !== 'closed' && to > step.at) {
      bands.push({
        from: step.at,
        to,
        state: step.state,
        open: open && index + 1 === steps.length
      });
    }
  });
  const lastStarted = service(details.last_job_started as string | undefined);
  const jobs: ITimelineModel['jobs'] = [];
  for (const job of view.jobs ?? []) {
    const jobCreated = service(job.created);
    if (jobCreated === null) {
      continue;
    }
    let started = service(job.started);
    if (started === null && job.status === 'RUNNING') {
      started = lastStarted;
    }
    const unfinished = job.status === 'QUEUED' || job.status === 'RUNNING';
    const finished = service(job.finished) ?? (unfinished ? end : null);
    if (finished === null) {
      continue; // final, but its times are not known yet
    }
    jobs.push({
      job,
      created: jobCreated,
      started,
      finished,
      outcome: job.status.toLowerCase(),
      open: open && unfinished && parseTime(job.finished) === null
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
        idle.push({ from: cursor, to: Math.min(from, band.to), open: false });
      }
      cursor = Math.max(cursor, to);
    }
    if (cursor < band.to) {
      idle.push({ from: cursor, to: band.to, open: band.open });
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
    open,
    bands,
    jobs,
    // A gap still open grows; a closed one under half a second is not worth a mark.
    idle: idle.filter(gap => gap.open || gap.to - gap.from >= 500),
    markers
  };
}
