import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import type { SessionActions } from '../../actions';
import { isLost, isOpen, modeText, shortId } from '../../present';
import type { ISessionView } from '../../store/sessionStore';
import { Ticker } from '../../ticker';
import { Countdown } from '../Countdown';
import { BillingLine, BudgetLine, FitLine } from '../Money';
import { SessionButtons } from './Buttons';
import { Details, RowLinks } from './Details';
import { JobTable } from './JobTable';
import {
  CopyId,
  LastUpdated,
  RowFacts,
  SessionOutcome,
  StatusBadge
} from './Summary';
import { Timeline } from './Timeline';
import { ICONS } from './icons';

export interface ISessionRowProps {
  view: ISessionView;
  expanded: boolean;
  onToggle: (id: string) => void;
  actions: SessionActions;
  /** Whether a request for this session is in flight. */
  busy: boolean;
  ticker: Ticker;
  offset: number;
  trans: TranslationBundle;
  /** The push channel is down: numbers may be old. */
  stale: boolean;
  showDetails: boolean;
  showTimeline: boolean;
  /** `GET sessions/{id}`, for the timeline of an expanded row. */
  fetchOne: (id: string) => Promise<ISessionView>;
  /** The sidebar's filter: an expanded row lists only the jobs it matches (see `filterJobs`). */
  filter?: string;
  /**
   * Opens a notebook; given when the row's group does not name its notebook (orphaned, not
   * found, recently closed), so the row says which notebook opened the session.
   */
  openNotebook?: (path: string) => void;
}

/** One session: summary line, countdown, counts, actions; the full picture when expanded. */
export const SessionRow = React.memo(function SessionRow(
  props: ISessionRowProps
): JSX.Element {
  const { view, trans, expanded, busy } = props;
  const detailsId = `jp-SessionMonitor-details-${view.id}`;
  const closed = !isOpen(view);
  const focus = useFocusInRow();
  return (
    <li
      ref={focus.ref}
      onFocus={focus.onFocus}
      onBlur={focus.onBlur}
      className={
        'jp-SessionMonitor-session' +
        (closed ? ' jp-mod-closed' : '') +
        (view.stale ? ' jp-mod-stale' : '')
      }
      id={`jp-SessionMonitor-session-${view.id}`}
      data-session-id={view.id}
      aria-busy={busy}
    >
      <div className="jp-SessionMonitor-summary">
        <button
          type="button"
          className="jp-SessionMonitor-expand"
          aria-expanded={expanded}
          aria-controls={detailsId}
          aria-label={trans.__(
            'Session %1 on %2, %3',
            shortId(view.id),
            view.backend ?? trans.__('unknown backend'),
            view.status
          )}
          onClick={() => props.onToggle(view.id)}
        >
          {expanded ? ICONS.expanded : ICONS.collapsed}
          <span className="jp-SessionMonitor-backend">
            {view.backend ?? trans.__('unknown backend')}
          </span>
        </button>
        <span className="jp-SessionMonitor-mode">{modeText(view, trans)}</span>
        {view.source === 'headless' && (
          <span
            className="jp-SessionMonitor-headless"
            title={trans.__(
              'Opened by a notebook run outside JupyterLab (papermill, nbclient) from this server'
            )}
          >
            {trans.__('headless run')}
          </span>
        )}
        <StatusBadge view={view} trans={trans} />
        <CopyId id={view.id} trans={trans} />
      </div>
      {isLost(view) && (
        <div className="jp-SessionMonitor-lost" role="note">
          {view.error?.message ??
            trans.__(
              'The Qiskit Runtime service no longer knows this session. It is not counted as open.'
            )}
        </div>
      )}
      <div className="jp-SessionMonitor-info">
        {!closed && (
          <Countdown
            view={view}
            ticker={props.ticker}
            offset={props.offset}
            trans={trans}
            stale={props.stale || view.stale}
          />
        )}
        <SessionOutcome view={view} trans={trans} />
        <BillingLine
          view={view}
          ticker={props.ticker}
          offset={props.offset}
          trans={trans}
        />
        <BudgetLine
          view={view}
          ticker={props.ticker}
          offset={props.offset}
          trans={trans}
        />
        {!closed && <FitLine view={view} trans={trans} />}
        <RowFacts view={view} trans={trans} openNotebook={props.openNotebook} />
        {view.stale && (
          <LastUpdated
            view={view}
            ticker={props.ticker}
            offset={props.offset}
            trans={trans}
          />
        )}
      </div>
      <SessionButtons {...props} />
      {expanded && (
        <div id={detailsId} className="jp-SessionMonitor-expanded">
          <Countdown
            view={view}
            ticker={props.ticker}
            offset={props.offset}
            trans={trans}
            all
            skipPrimary={!closed}
            stale={props.stale || view.stale}
          />
          {!view.stale && (
            <LastUpdated
              view={view}
              ticker={props.ticker}
              offset={props.offset}
              trans={trans}
            />
          )}
          <JobTable
            view={view}
            actions={props.actions}
            trans={trans}
            filter={props.filter ?? ''}
          />
          {props.showDetails && <Details view={view} trans={trans} />}
          <RowLinks view={view} actions={props.actions} trans={trans} />
          {props.showTimeline && (
            <Timeline
              view={view}
              fetchOne={props.fetchOne}
              ticker={props.ticker}
              offset={props.offset}
              trans={trans}
            />
          )}
        </div>
      )}
    </li>
  );
});

/**
 * Keeps keyboard focus in a row whose focused button went away (Close once the session stops
 * accepting jobs, a job's Cancel once the job ended): the row's own button takes it, rather than
 * the page. A button that opened a dialog gets focus back from the dialog itself.
 */
function useFocusInRow(): {
  ref: React.RefObject<HTMLLIElement>;
  onFocus: (event: React.FocusEvent) => void;
  onBlur: (event: React.FocusEvent) => void;
} {
  const ref = React.useRef<HTMLLIElement>(null);
  const last = React.useRef<HTMLElement | null>(null);
  React.useLayoutEffect(() => {
    const element = last.current;
    const active = document.activeElement;
    if (
      element &&
      !element.isConnected &&
      (!active || active === document.body)
    ) {
      last.current = null;
      ref.current
        ?.querySelector<HTMLElement>('.jp-SessionMonitor-expand')
        ?.focus();
    }
  });
  const onFocus = React.useCallback((event: React.FocusEvent) => {
    last.current = event.target as HTMLElement;
  }, []);
  const onBlur = React.useCallback((event: React.FocusEvent) => {
    const next = event.relatedTarget as HTMLElement | null;
    const left = event.target as HTMLElement;
    if (next === null) {
      // Focus went nowhere: a click on plain text (the button is still there: forget it), or
      // the button was removed (keep it, so the next render gives focus to the row).
      setTimeout(() => {
        if (left.isConnected && last.current === left) {
          last.current = null;
        }
      });
    } else if (!ref.current?.contains(next) && !next.closest('.jp-Dialog')) {
      // Moved on by the user, not into a dialog this row opened: nothing to give back.
      last.current = null;
    }
  }, []);
  return { ref, onFocus, onBlur };
}
