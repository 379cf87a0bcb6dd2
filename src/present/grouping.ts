import type { TranslationBundle } from '@jupyterlab/translation';
import type { IJobView, ISessionView } from '../store/sessionStore';
import { parseTime } from '../timer';
import { JOB_STATUSES, isClosed, isLost } from './state';

// ------------------------------------------------------------------ grouping

export type GroupKind =
  'orphaned' | 'notebook' | 'elsewhere' | 'lost' | 'closed';

export interface IGroup {
  /** Stable key: the notebook path, or the kind for the other groups. */
  key: string;
  kind: GroupKind;
  /** The notebook path for `notebook` groups, else null. */
  path: string | null;
  sessions: ISessionView[];
}

export interface IGroupOptions {
  /** Text to match against id, backend, notebook, mode and job tags (case-insensitive). */
  filter: string;
  /** `open`: only sessions that are not closed; `all`: recently closed ones too. */
  show: 'open' | 'all';
  /** How long a closed session stays under "Recently closed", in minutes. */
  recentlyClosedMinutes: number;
  /** Now, on the server's clock (ms). */
  now: number;
}

function closedAt(view: ISessionView): number | null {
  const value = view.details?.closed_at;
  const ms = typeof value === 'string' ? (parseTime(value) ?? NaN) : NaN;
  return Number.isNaN(ms) ? null : ms;
}

export function matches(view: ISessionView, filter: string): boolean {
  const needle = filter.trim().toLowerCase();
  if (!needle) {
    return true;
  }
  const haystack = [
    view.id,
    view.backend ?? '',
    view.notebook_path ?? '',
    view.mode ?? '',
    view.status,
    ...(view.jobs ?? []).flatMap(job => [job.id, ...job.tags])
  ];
  return haystack.some(text => text.toLowerCase().includes(needle));
}

/**
 * The jobs an expanded row lists under the filter: when the session matches only through some
 * of its jobs (their tags or ids), those jobs; when it matches by itself (id, backend, notebook,
 * mode, status) or there is no filter, all of them. `hidden` is how many are left out.
 */
export function filterJobs(
  view: ISessionView,
  filter: string
): { jobs: IJobView[]; hidden: number } {
  const jobs = view.jobs ?? [];
  const needle = filter.trim().toLowerCase();
  const own = [
    view.id,
    view.backend ?? '',
    view.notebook_path ?? '',
    view.mode ?? '',
    view.status
  ];
  if (!needle || own.some(text => text.toLowerCase().includes(needle))) {
    return { jobs, hidden: 0 };
  }
  const shown = jobs.filter(job =>
    [job.id, ...job.tags].some(text => text.toLowerCase().includes(needle))
  );
  return { jobs: shown, hidden: jobs.length - shown.length };
}

/** How many jobs an expanded row lists before offering more. */
export const JOB_PAGE = 20;

function jobRank(status: string): number {
  switch (status) {
    case 'RUNNING':
      return 0;
    case 'DONE':
    case 'ERROR':
    case 'CANCELLED':
      return 2;
    default:
      return 1; // QUEUED, and any status the service adds that is not final
  }
}

/**
 * Jobs in the order a user looks for them: running first, then queued in queue order (the next
 * to run at the top), then finished ones, most recently finished first.
 */
export function orderJobs(jobs: readonly IJobView[]): IJobView[] {
  const at = (value: string | null | undefined): number =>
    (value && parseTime(value)) || 0;
  return [...jobs].sort((a, b) => {
    const rank = jobRank(a.status) - jobRank(b.status);
    if (rank !== 0) {
      return rank;
    }
    if (jobRank(a.status) === 1) {
      return at(a.created) - at(b.created);
    }
    return (
      at(b.finished ?? b.created) - at(a.finished ?? a.created) ||
      at(b.created) - at(a.created)
    );
  });
}

/** Jobs per status, in `JOB_STATUSES` order then any others, leaving out those with none. */
export function countJobs(
  jobs: readonly IJobView[]
): { status: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const job of jobs) {
    counts.set(job.status, (counts.get(job.status) ?? 0) + 1);
  }
  const known: readonly string[] = JOB_STATUSES;
  const order = [
    ...JOB_STATUSES,
    ...[...counts.keys()].filter(status => !known.includes(status)).sort()
  ];
  return order
    .filter(status => counts.has(status))
    .map(status => ({ status, count: counts.get(status)! }));
}

function newestFirst(a: ISessionView, b: ISessionView): number {
  return (b.tracked_at ?? '').localeCompare(a.tracked_at ?? '');
}

/**
 * The key of the group `groupSessions` puts a session in ("orphaned", "notebook:<path>",
 * "elsewhere", "lost", "closed"), or null when it is not listed: filtered out, or closed while
 * only open sessions are shown or longer ago than the recently closed minutes.
 */
export function groupKeyOf(
  view: ISessionView,
  options: IGroupOptions
): string | null {
  if (!matches(view, options.filter)) {
    return null;
  }
  if (isLost(view)) {
    return 'lost';
  }
  if (isClosed(view)) {
    const at = closedAt(view);
    const cutoff = options.now - options.recentlyClosedMinutes * 60_000;
    return options.show === 'all' && (at === null || at >= cutoff)
      ? 'closed'
      : null;
  }
  if (view.orphaned) {
    return 'orphaned';
  }
  return view.notebook_path ? `notebook:${view.notebook_path}` : 'elsewhere';
}

/**
 * Where `groupSessions` puts a session: its group and what orders it there, as one string
 * (empty when it is not listed). A change that leaves it the same moves nothing in the list.
 */
export function placementOf(
  view: ISessionView | undefined,
  options: IGroupOptions
): string {
  const key = view ? groupKeyOf(view, options) : null;
  if (key === null) {
    return '';
  }
  const order = key === 'closed' ? closedAt(view!) : view!.tracked_at;
  return `${key}\n${order ?? ''}`;
}

/** When the first of these closed sessions leaves "Recently closed" (server ms), or Infinity. */
export function closedListedUntil(
  sessions: Iterable<ISessionView>,
  recentlyClosedMinutes: number
): number {
  let until = Number.POSITIVE_INFINITY;
  for (const view of sessions) {
    const at = closedAt(view);
    if (at !== null) {
      until = Math.min(until, at + recentlyClosedMinutes * 60_000);
    }
  }
  return until;
}

/**
 * The sidebar's groups, in display order: orphaned sessions first (they cost money and nobody
 * can reach them), then one group per notebook (by name), then sessions tracked by id or opened
 * elsewhere, then those the service no longer knows (to forget them), then recently closed
 * ones. Empty groups are left out.
 */
export function groupSessions(
  sessions: Iterable<ISessionView>,
  options: IGroupOptions
): IGroup[] {
  const byKey = new Map<string, ISessionView[]>();
  for (const view of sessions) {
    const key = groupKeyOf(view, options);
    if (key !== null) {
      const list = byKey.get(key);
      if (list) {
        list.push(view);
      } else {
        byKey.set(key, [view]);
      }
    }
  }
  const groups: IGroup[] = [];
  const add = (key: string, kind: GroupKind, path: string | null) => {
    const list = byKey.get(key);
    if (list) {
      groups.push({ key, kind, path, sessions: list.sort(newestFirst) });
    }
  };
  add('orphaned', 'orphaned', null);
  const paths = [...byKey.keys()]
    .filter(key => key.startsWith('notebook:'))
    .map(key => key.slice('notebook:'.length))
    .sort((a, b) => notebookName(a).localeCompare(notebookName(b)));
  for (const path of paths) {
    add(`notebook:${path}`, 'notebook', path);
  }
  add('elsewhere', 'elsewhere', null);
  add('lost', 'lost', null);
  const closed = byKey.get('closed');
  if (closed) {
    closed.sort((a, b) => (closedAt(b) ?? 0) - (closedAt(a) ?? 0));
    groups.push({
      key: 'closed',
      kind: 'closed',
      path: null,
      sessions: closed
    });
  }
  return groups;
}

/** "vqe.ipynb" for "work/chemistry/vqe.ipynb". */
export function notebookName(path: string): string {
  const parts = path.split('/');
  return parts[parts.length - 1] || path;
}

export function groupTitle(
  group: Pick<IGroup, 'kind' | 'path'>,
  trans: TranslationBundle
): string {
  switch (group.kind) {
    case 'orphaned':
      return trans.__('Orphaned (kernel gone, session still open)');
    case 'notebook':
      return notebookName(group.path ?? '');
    case 'elsewhere':
      return trans.__('Tracked by id / elsewhere');
    case 'lost':
      return trans.__('Not found at the service');
    case 'closed':
      return trans.__('Recently closed');
  }
}
