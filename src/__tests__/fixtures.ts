import type {
  IBilling,
  IInstanceUsage,
  IJobView,
  ISessionView
} from '../store/sessionStore';

/** A session view as the server sends it, with the given fields changed. */
export function sessionView(changes: Partial<ISessionView> = {}): ISessionView {
  return {
    id: 'a11199df80a94d84840b',
    status: 'In progress, accepting new jobs',
    state: 'active',
    mode: 'dedicated',
    backend: 'ibm_torino',
    notebook_path: 'chemistry/vqe.ipynb',
    kernel_id: 'k1',
    orphaned: false,
    stale: false,
    accepting_jobs: true,
    source: 'kernel',
    tracked_at: '2026-01-01T12:00:00.000Z',
    deadlines: {
      max_ttl_at: null,
      interactive_ttl_at: null,
      idle_close_at: null
    },
    details: { max_time: 28800, last_job_completed: null, closed_at: null },
    usage_seconds: 12.5,
    jobs: [],
    jobs_summary: { QUEUED: 0, RUNNING: 0, DONE: 0, ERROR: 0, CANCELLED: 0 },
    last_polled_at: '2026-01-01T12:00:00.000Z',
    error: null,
    end_reason: null,
    ...changes
  };
}

export function job(id: string, status: string, tags: string[] = []): IJobView {
  return {
    id,
    program_id: 'sampler',
    status,
    tags,
    created: '2026-01-01T12:00:01.000Z',
    usage_seconds: status === 'DONE' ? 2 : null
  };
}

/** Jobs and the matching summary, the way the server builds them. */
export function withJobs(
  jobs: IJobView[]
): Pick<ISessionView, 'jobs' | 'jobs_summary'> {
  const summary: Record<string, number> = {
    QUEUED: 0,
    RUNNING: 0,
    DONE: 0,
    ERROR: 0,
    CANCELLED: 0
  };
  for (const item of jobs) {
    summary[item.status] += 1;
  }
  return { jobs, jobs_summary: summary };
}

export const T0 = Date.parse('2026-01-01T12:00:00.000Z');

/** What a session has been billed, as the server sends it: billed now, with the given changes. */
export function billing(changes: Partial<IBilling> = {}): IBilling {
  return {
    billed_seconds: 100,
    billed_idle_seconds: 40,
    max_billed_seconds: 3700,
    cost: null,
    max_cost: null,
    currency: null,
    rate_per_second: null,
    accruing: true,
    idle_accruing: true,
    accrues_until: '2026-01-01T12:00:30.000Z',
    ...changes
  };
}

/** An instance's allowance as the server reads it, with the given changes. */
export function instanceReading(
  changes: Partial<IInstanceUsage> = {}
): IInstanceUsage {
  return {
    account: { name: null, instance: 'crn:x' },
    instance: 'crn:x',
    consumed_seconds: 500,
    limit_seconds: 600,
    remaining_seconds: 100,
    limit_reached: false,
    period_start: null,
    period_end: null,
    as_of: '2026-01-01T12:00:00.000Z',
    error: null,
    projected_remaining_seconds: 90,
    open_worst_case_seconds: 3600,
    at_risk: true,
    ...changes
  };
}
