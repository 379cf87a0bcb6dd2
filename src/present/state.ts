import type { ISessionView } from '../store/sessionStore';

/** Job statuses as `job.status()` names them, in the order the sidebar counts them. */
export const JOB_STATUSES = [
  'QUEUED',
  'RUNNING',
  'DONE',
  'ERROR',
  'CANCELLED'
] as const;

export function isClosed(view: ISessionView): boolean {
  return (view.state ?? '').toLowerCase() === 'closed';
}

/** The service answered that it does not know the session (deleted, or the service reset). */
export function isLost(view: ISessionView): boolean {
  return view.not_found === true;
}

/** Open, as far as the service says: not closed and still known to it. */
export function isOpen(view: ISessionView): boolean {
  return !isClosed(view) && !isLost(view);
}

/** Jobs that will still run (and be billed) unless cancelled. */
export function pendingJobs(view: ISessionView): {
  queued: number;
  running: number;
} {
  const summary = view.jobs_summary ?? {};
  return { queued: summary.QUEUED ?? 0, running: summary.RUNNING ?? 0 };
}
