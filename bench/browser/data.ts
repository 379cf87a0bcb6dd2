/**
 * A synthetic but realistic store content for the sidebar benchmark: N sessions of M jobs each
 * over ~20 notebooks, in the states a busy user sees (active, inactive, open; a few orphaned,
 * tracked by id, or stale), deadlines in the future, and a sequence of pushed changes as the
 * poller would send them (a job starts or finishes, the poll time moves). The sessions whose rows
 * the benchmark expands may have more jobs (a long job table, paged), and every n-th change may
 * be to one of them (the sessions a user watches). Deterministic (seeded).
 */
import type {
  IChange,
  IJobView,
  ISessionView,
  ISnapshot
} from '../../src/store/sessionStore';

export interface IBenchData {
  /** Local time the data is relative to (ms). */
  now: number;
  snapshot: ISnapshot;
  /** Pushed changes, versions snapshot.version + 1, + 2, ... */
  changes: IChange[];
  /** `GET sessions/{id}` adds the timeline. */
  timelines: Map<string, NonNullable<ISessionView['timeline']>>;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BACKENDS = ['ibm_torino', 'ibm_fez', 'ibm_marrakesh', 'ibm_kingston'];
const PROJECTS = ['chemistry', 'optimization', 'error-mitigation', 'teaching'];
const TAGS = ['vqe', 'qaoa', 'zne', 'pec', 'sweep', 'calibration', 'draft'];

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * A deadline `seconds` after `now`, half-way between two whole seconds: a clock offset of a few
 * milliseconds (the fake server's answer is not instantaneous) never changes a countdown's text.
 */
function deadline(now: number, seconds: number): string {
  return iso(now + seconds * 1000 + 500);
}

function hexId(random: () => number, length: number): string {
  let out = '';
  while (out.length < length) {
    out += Math.floor(random() * 16).toString(16);
  }
  return out;
}

function summaryOf(jobs: IJobView[]): Record<string, number> {
  const summary: Record<string, number> = {
    QUEUED: 0,
    RUNNING: 0,
    DONE: 0,
    ERROR: 0,
    CANCELLED: 0
  };
  for (const job of jobs) {
    summary[job.status] += 1;
  }
  return summary;
}

function statusWords(state: string, accepting: boolean): string {
  if (state === 'open' || state === 'inactive') {
    return 'Pending';
  }
  return accepting
    ? 'In progress, accepting new jobs'
    : 'In progress, not accepting new jobs';
}

function usageOf(jobs: IJobView[]): number {
  return jobs.reduce((sum, job) => sum + (job.usage_seconds ?? 0), 0);
}

export function makeData(options: {
  sessions: number;
  jobs: number;
  changes: number;
  now: number;
  /** Every n-th session is stale (its polls fail); 1: all of them, 0: none. */
  staleEvery?: number;
  /** Indices of the sessions whose rows are expanded (the first rows shown). */
  expanded?: ReadonlySet<number>;
  /** How many jobs those sessions have (default: `jobs`). */
  expandedJobs?: number;
  /** Every n-th change is to one of those sessions (0: changes pick any session alike). */
  expandedChangeEvery?: number;
  seed?: number;
}): IBenchData {
  const expanded = options.expanded ?? new Set<number>();
  const staleEvery = options.staleEvery ?? 33;
  const random = mulberry32(options.seed ?? 20260101);
  const { now } = options;
  const sessions: ISessionView[] = [];
  const timelines = new Map<string, NonNullable<ISessionView['timeline']>>();
  for (let i = 0; i < options.sessions; i++) {
    const id = hexId(random, 20);
    const kind = i % 10;
    const state = kind < 5 ? 'active' : kind < 7 ? 'inactive' : 'open';
    const created = now - 40 * 60_000 + i * 1000;
    const started = state === 'open' ? null : created + 30_000;
    const jobs: IJobView[] = [];
    const count = expanded.has(i)
      ? (options.expandedJobs ?? options.jobs)
      : options.jobs;
    // Active sessions: some jobs done, one running, the rest queued; every 4th is idle (all
    // done, so its interactive TTL runs). Inactive: all done. Open: all queued.
    const done =
      state === 'inactive' || (state === 'active' && i % 4 === 0)
        ? count
        : state === 'open'
          ? 0
          : Math.floor(random() * (count - 2)) + 1;
    for (let j = 0; j < count; j++) {
      const status =
        j < done
          ? j % 11 === 10
            ? 'ERROR'
            : j % 13 === 12
              ? 'CANCELLED'
              : 'DONE'
          : j === done && state === 'active'
            ? 'RUNNING'
            : 'QUEUED';
      jobs.push({
        id: hexId(random, 20),
        program_id: j % 3 === 0 ? 'estimator' : 'sampler',
        status,
        tags: [TAGS[(i + j) % TAGS.length], `iteration-${j}`],
        created: iso(created + 60_000 + j * 20_000),
        usage_seconds:
          status === 'DONE' || status === 'ERROR'
            ? Math.round(random() * 80) / 10 + 1
            : null
      });
    }
    const idle = state === 'active' && done === count;
    const lastCompleted =
      done > 0 ? iso(created + 60_000 + done * 20_000) : null;
    const maxTime = 28_800;
    const notebook =
      i % 20 === 7
        ? null
        : `${PROJECTS[i % 4]}/notebook-${String((i * 7) % 20).padStart(2, '0')}.ipynb`;
    const stale = staleEvery > 0 && i % staleEvery === 5 % staleEvery;
    const view: ISessionView = {
      id,
      status: statusWords(state, true),
      state,
      mode: i % 3 === 0 ? 'batch' : 'dedicated',
      backend: BACKENDS[i % BACKENDS.length],
      notebook_path: notebook,
      kernel_id: notebook ? hexId(random, 12) : null,
      orphaned: i % 40 === 3,
      stale,
      accepting_jobs: true,
      state_reason: null,
      source: notebook ? 'kernel' : 'tracked',
      created_at: iso(created),
      tracked_at: iso(created + 1000),
      deadlines: {
        max_ttl_at:
          started === null
            ? null
            : deadline(now, 10 * 60 + Math.floor(random() * 7 * 3600)),
        interactive_ttl_at: idle
          ? deadline(now, 30 + Math.floor(random() * 270))
          : null,
        idle_close_at: null
      },
      details: {
        id,
        backend_name: BACKENDS[i % BACKENDS.length],
        interactive_timeout: 60,
        max_time: maxTime,
        active_timeout: maxTime,
        state,
        accepting_jobs: true,
        last_job_started: started === null ? null : iso(started),
        last_job_completed: lastCompleted,
        started_at: started === null ? null : iso(started),
        closed_at: null,
        activated_at: started === null ? null : iso(started),
        mode: i % 3 === 0 ? 'batch' : 'dedicated',
        usage_time: usageOf(jobs),
        timestamps: [{ status: 'open', timestamp: iso(created) }]
      },
      usage_seconds: usageOf(jobs),
      jobs,
      jobs_summary: summaryOf(jobs),
      last_polled_at: iso(now - (stale ? 180_000 : 2_000)),
      error: stale
        ? {
            kind: 'network',
            message: 'The service did not answer within 20 s.'
          }
        : null,
      end_reason: null
    };
    sessions.push(view);
    timelines.set(id, [
      {
        at: iso(created),
        state: 'open',
        accepting_jobs: true,
        status: 'Pending'
      },
      ...(started === null
        ? []
        : [
            {
              at: iso(started),
              state: 'active',
              accepting_jobs: true,
              status: 'In progress, accepting new jobs'
            }
          ])
    ]);
  }

  // Pushed changes: what one poll of a busy session reports.
  const current = new Map(sessions.map(view => [view.id, view]));
  const changes: IChange[] = [];
  const version = 1000;
  const focus = [...expanded].filter(i => i < sessions.length);
  const focusEvery = options.expandedChangeEvery ?? 0;
  for (let k = 0; k < options.changes; k++) {
    const id =
      focusEvery > 0 && focus.length > 0 && k % focusEvery === focusEvery - 1
        ? sessions[focus[Math.floor(random() * focus.length)]].id
        : sessions[Math.floor(random() * sessions.length)].id;
    const before = current.get(id)!;
    const after = nextView(before, now + k * 250, random);
    current.set(id, after);
    changes.push({
      version: version + k + 1,
      kind: 'updated',
      session_id: id,
      session: after
    });
  }
  return {
    now,
    snapshot: { sessions, server_time: iso(now), version },
    changes,
    timelines
  };
}

/**
 * What the next poll of a busy session reports: its running job done, the next queued one
 * running (the same job objects otherwise, as the store's parse would give new ones anyway).
 */
export function nextView(
  before: ISessionView,
  polled: number,
  random: () => number
): ISessionView {
  const jobs = [...(before.jobs ?? [])];
  const running = jobs.findIndex(job => job.status === 'RUNNING');
  if (running >= 0) {
    jobs[running] = {
      ...jobs[running],
      status: 'DONE',
      usage_seconds: Math.round(random() * 80) / 10 + 1
    };
  }
  const queued = jobs.findIndex(job => job.status === 'QUEUED');
  if (queued >= 0) {
    jobs[queued] = { ...jobs[queued], status: 'RUNNING' };
  }
  const state = queued >= 0 || running >= 0 ? 'active' : before.state;
  return {
    ...before,
    state,
    status: statusWords(state ?? 'active', true),
    jobs,
    jobs_summary: summaryOf(jobs),
    usage_seconds: usageOf(jobs),
    last_polled_at: iso(polled),
    deadlines: {
      ...before.deadlines,
      max_ttl_at: before.deadlines.max_ttl_at ?? deadline(polled, 8 * 3600 - 1),
      interactive_ttl_at:
        queued < 0 && state === 'active' ? deadline(polled, 60) : null
    }
  };
}
