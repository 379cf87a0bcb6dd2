import type { IJobView, ISessionView } from '../sessionStore';

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
