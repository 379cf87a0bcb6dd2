import type { TranslationBundle } from '@jupyterlab/translation';
import type { ISessionView } from '../store/sessionStore';
import { JOB_STATUSES } from './state';

// ------------------------------------------------------------------ words

/** "dedicated" is what the service calls a session. */
export function modeText(view: ISessionView, trans: TranslationBundle): string {
  return view.mode === 'batch' ? trans.__('batch') : trans.__('session');
}

export function shortId(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id;
}

/** "45 s", "12 min 03 s", "2 h 05 min". */
export function formatDuration(
  seconds: number | null | undefined,
  trans: TranslationBundle
): string {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) {
    return trans.__('—');
  }
  if (seconds < 10) {
    return trans.__('%1 s', seconds.toFixed(1).replace(/\.0$/, ''));
  }
  const whole = Math.round(seconds);
  if (whole < 60) {
    return trans.__('%1 s', whole);
  }
  if (whole < 3600) {
    const s = String(whole % 60).padStart(2, '0');
    return trans.__('%1 min %2 s', Math.floor(whole / 60), s);
  }
  const min = String(Math.floor((whole % 3600) / 60)).padStart(2, '0');
  return trans.__('%1 h %2 min', Math.floor(whole / 3600), min);
}

/** "3 queued · 1 running · 12 done", statuses with no job left out. */
/** "3 queued", "1 failed": how many jobs have a status, in words. */
export function jobCountText(
  status: string,
  count: number,
  trans: TranslationBundle
): string {
  switch (status) {
    case 'QUEUED':
      return trans._n('%1 queued', '%1 queued', count);
    case 'RUNNING':
      return trans._n('%1 running', '%1 running', count);
    case 'DONE':
      return trans._n('%1 done', '%1 done', count);
    case 'ERROR':
      return trans._n('%1 failed', '%1 failed', count);
    case 'CANCELLED':
      return trans._n('%1 cancelled', '%1 cancelled', count);
    default:
      return `${count} ${status.toLowerCase()}`;
  }
}

export function jobCountsText(
  view: ISessionView,
  trans: TranslationBundle
): string {
  const summary = view.jobs_summary ?? {};
  const parts = JOB_STATUSES.filter(status => (summary[status] ?? 0) > 0).map(
    status => jobCountText(status, summary[status], trans)
  );
  return parts.length ? parts.join(' · ') : trans.__('no jobs yet');
}

export function endReasonText(
  view: ISessionView,
  trans: TranslationBundle
): string | null {
  switch (view.end_reason) {
    case null:
    case undefined:
      return null;
    case 'closed':
      return trans.__(
        'Closed: it stopped accepting jobs and its jobs finished.'
      );
    case 'cancelled': {
      const cancelled = view.jobs_summary?.CANCELLED ?? 0;
      return cancelled
        ? trans._n(
            'Cancelled: it ended at once; %1 job was cancelled.',
            'Cancelled: it ended at once; %1 jobs were cancelled.',
            cancelled
          )
        : trans.__('Cancelled: it ended at once; no job was queued.');
    }
    case 'max_ttl': {
      const failed = view.jobs_summary?.ERROR ?? 0;
      return failed
        ? trans._n(
            'Ended at its maximum time (max TTL); %1 job failed (jobs still queued then fail).',
            'Ended at its maximum time (max TTL); %1 jobs failed (jobs still queued then fail).',
            failed
          )
        : trans.__(
            'Ended at its maximum time (max TTL); no job was left waiting.'
          );
    }
    case 'idle_timeout':
      return trans.__('Closed by the service: no job was submitted in time.');
    default:
      return trans.__('Closed; the service did not say why.');
  }
}
