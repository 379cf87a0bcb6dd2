import type { TranslationBundle } from '@jupyterlab/translation';
import type { IJobView, ISessionView } from '../store/sessionStore';
import { clockTime } from './countdowns';
import { isOpen, pendingJobs } from './state';

// ------------------------------------------------------------------ actions

export type SessionAction = 'close' | 'cancel';

/** Which of Close and Cancel apply: none once closed; Close only while it accepts jobs. */
export function actionsFor(view: ISessionView): SessionAction[] {
  if (!isOpen(view)) {
    return [];
  }
  // An action the service accepted, not confirmed by a read yet, is not offered again; one
  // whose answer never came may be tried again (closing and cancelling are idempotent).
  const pending =
    view.pending_action?.state === 'accepted'
      ? view.pending_action.action
      : undefined;
  if (pending === 'cancel') {
    return [];
  }
  return view.accepting_jobs === false || pending === 'close'
    ? ['cancel']
    : ['close', 'cancel'];
}

/**
 * A close or cancel the service accepted (or whose answer never came), until a read confirms
 * it: said at once, with the time it was sent, on the row and the widget.
 */
export function pendingActionText(
  view: ISessionView,
  trans: TranslationBundle
): string | null {
  const pending = view.pending_action;
  if (!pending || !isOpen(view)) {
    return null;
  }
  const at = clockTime(pending.at);
  if (pending.state === 'accepted') {
    return pending.action === 'close'
      ? trans.__(
          'Close accepted by the service at %1; not confirmed by a read yet.',
          at
        )
      : trans.__(
          'Cancel accepted by the service at %1; not confirmed by a read yet.',
          at
        );
  }
  return pending.action === 'close'
    ? trans.__(
        'Close sent at %1 got no answer: the session may or may not have closed. Checking.',
        at
      )
    : trans.__(
        'Cancel sent at %1 got no answer: the session may or may not have ended. Checking.',
        at
      );
}

/** The confirmation's sentence: what will happen, with numbers. */
export function consequence(
  view: ISessionView,
  action: SessionAction,
  trans: TranslationBundle
): string {
  const { queued, running } = pendingJobs(view);
  if (action === 'close') {
    if (queued + running === 0) {
      return trans.__(
        'Close: no new jobs; nothing is queued or running, so the session ends now.'
      );
    }
    const parts: string[] = [];
    if (queued) {
      parts.push(
        trans._n(
          '%1 queued job will still run',
          '%1 queued jobs will still run',
          queued
        )
      );
    }
    if (running) {
      parts.push(
        trans._n('%1 running job finishes', '%1 running jobs finish', running)
      );
    }
    return trans.__(
      'Close: no new jobs; %1. The session ends when they are done and is billed until then.',
      parts.join('; ')
    );
  }
  if (queued + running === 0) {
    return trans.__(
      'Cancel: nothing is queued or running, so no job is cancelled; the session ends now.'
    );
  }
  const parts: string[] = [];
  if (queued) {
    parts.push(
      trans._n(
        '%1 queued job will be cancelled',
        '%1 queued jobs will be cancelled',
        queued
      )
    );
  }
  if (running) {
    parts.push(
      trans._n('%1 running job finishes', '%1 running jobs finish', running)
    );
  }
  return trans.__('Cancel: %1. The session ends now.', parts.join('; '));
}

/** A failed or cancelled job's reason in the service's words: "1517: The circuit acts on …". */
export function jobReasonText(job: IJobView): string | null {
  const reason = job.reason;
  if (!reason || (!reason.message && reason.code === null)) {
    return null;
  }
  const code = reason.code === null ? '' : `${reason.code}`;
  return code && reason.message
    ? `${code}: ${reason.message}`
    : code || reason.message;
}

export function jobCancellable(job: IJobView): boolean {
  return job.status === 'QUEUED' || job.status === 'RUNNING';
}
