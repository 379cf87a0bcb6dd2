import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import {
  clockTime,
  endReasonText,
  formatDuration,
  isClosed,
  isLost,
  jobCountsText,
  notebookName,
  pendingActionText,
  shortId
} from '../../present';
import type { ISessionView } from '../../store/sessionStore';
import { Ticker, useNow, useOnScreen } from '../../ticker';
import { parseTime } from '../../timer';
import { ICONS } from './icons';

/** A status word with a state class for colour; the words carry the meaning. */
export function StatusBadge({
  view,
  trans
}: {
  view: ISessionView;
  trans: TranslationBundle;
}): JSX.Element {
  const state = isLost(view) ? 'lost' : (view.state ?? 'unknown').toLowerCase();
  const text = isLost(view)
    ? trans.__('Not found at the service')
    : view.status;
  return (
    <span
      className={`jp-SessionMonitor-status jp-mod-${state}`}
      data-testid="session-status"
      title={text}
    >
      {text}
    </span>
  );
}

/** A short id with a button that copies the full one; `label` names what is copied. */
export const CopyId = React.memo(function CopyId({
  id,
  trans,
  label
}: {
  id: string;
  trans: TranslationBundle;
  label?: string;
}): JSX.Element {
  const [copied, setCopied] = React.useState(false);
  return (
    <span className="jp-SessionMonitor-id">
      <code title={id}>{shortId(id)}</code>
      <button
        type="button"
        className="jp-SessionMonitor-iconButton"
        aria-label={label ?? trans.__('Copy session id %1', id)}
        title={copied ? trans.__('Copied') : trans.__('Copy the full id')}
        onClick={() => {
          void navigator.clipboard?.writeText(id).then(() => setCopied(true));
        }}
      >
        {ICONS.copy}
      </button>
    </span>
  );
});

/** The end reason once closed, the job counts and the usage: shared by rows and widgets. */
export function SessionOutcome(props: {
  view: ISessionView;
  trans: TranslationBundle;
}): JSX.Element {
  const { view, trans } = props;
  const reason = endReasonText(view, trans);
  const pending = pendingActionText(view, trans);
  return (
    <>
      {pending && (
        <div
          className="jp-SessionMonitor-pendingAction"
          role="status"
          data-testid="pending-action"
        >
          {pending}
        </div>
      )}
      {reason && (
        <div className="jp-SessionMonitor-endReason" data-testid="end-reason">
          {reason}
        </div>
      )}
      <div className="jp-SessionMonitor-counts">
        <span data-testid="job-counts">{jobCountsText(view, trans)}</span>
        {!view.billing && (
          <span className="jp-SessionMonitor-usage">
            {trans.__('usage %1', formatDuration(view.usage_seconds, trans))}
          </span>
        )}
      </div>
    </>
  );
}

/** What tells sessions apart in a list: the tags of their jobs; when it closed. */
export function RowFacts(props: {
  view: ISessionView;
  trans: TranslationBundle;
  openNotebook?: (path: string) => void;
}): JSX.Element | null {
  const { view, trans, openNotebook } = props;
  const distinct = new Set<string>();
  for (const job of view.jobs ?? []) {
    job.tags.forEach(tag => distinct.add(tag));
  }
  const tags = [...distinct];
  const closedAt = view.details?.closed_at;
  const closedText =
    isClosed(view) && typeof closedAt === 'string'
      ? trans.__('closed at %1', clockTime(closedAt))
      : null;
  const path = openNotebook ? view.notebook_path : null;
  if (!tags.length && !closedText && !path) {
    return null;
  }
  const shown = tags.slice(0, 4);
  return (
    <div className="jp-SessionMonitor-facts">
      {path && (
        <span data-testid="session-notebook">
          {trans.__('opened by')}{' '}
          <button
            type="button"
            className="jp-SessionMonitor-linkButton"
            title={trans.__('Open %1', path)}
            onClick={() => openNotebook!(path)}
          >
            {notebookName(path)}
          </button>
        </span>
      )}
      {closedText && <span>{closedText}</span>}
      {shown.length > 0 && (
        <span role="group" aria-label={trans.__('Job tags')}>
          {shown.map(tag => (
            <span className="jp-SessionMonitor-tag" key={tag}>
              {tag}
            </span>
          ))}
          {tags.length > shown.length &&
            trans.__('+%1 more', tags.length - shown.length)}
        </span>
      )}
    </div>
  );
}

export function LastUpdated(props: {
  view: ISessionView;
  ticker: Ticker;
  offset: number;
  trans: TranslationBundle;
}): JSX.Element {
  const { view, trans } = props;
  const ref = React.useRef<HTMLDivElement>(null);
  const now = useNow(props.ticker, useOnScreen(ref)); // off screen: no ticks

  const polled = parseTime(view.last_polled_at) ?? NaN;
  const ago = Number.isNaN(polled)
    ? null
    : Math.max(0, Math.round((now - props.offset - polled) / 1000));
  return (
    <div
      ref={ref}
      className={
        'jp-SessionMonitor-updated' + (view.stale ? ' jp-mod-stale' : '')
      }
      role={view.stale ? 'status' : undefined}
    >
      <span aria-hidden="true">
        {ago === null
          ? trans.__('not updated yet')
          : trans.__('last updated %1 ago', formatDuration(ago, trans))}
      </span>
      {view.stale && view.error && (
        <span className="jp-SessionMonitor-pollError">
          {' — '}
          {view.error.message}
        </span>
      )}
    </div>
  );
}
