import type { IStateDB } from '@jupyterlab/statedb';
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import type { SessionActions } from '../../actions';
import { useSignalVersion } from '../../hooks';
import type { MonitorModel } from '../../store/model';
import { MoneyHeader } from '../Money';
import { EmptyState } from './EmptyState';
import { Group, LiveRow } from './Group';
import { TRACK_INPUT_ID, TrackForm } from './TrackForm';
import { ADD_ICON } from './icons';
import { useLayout, useStoreFacts } from './layout';
import { useViewState } from './viewState';

export interface ISessionListProps {
  model: MonitorModel;
  actions: SessionActions;
  trans: TranslationBundle;
  openNotebook: (path: string) => void;
  /** Shown under the list: what is installed. */
  footer?: React.ReactNode;
  /** Also called by Retry (to reload what the footer shows). */
  onRetry?: () => void;
  /** JupyterLab's state database: the view (Open/All, collapsed groups, expanded rows) is kept
   * there across reloads, as Lab's own panels keep theirs. */
  state?: IStateDB | null;
}

/** The sidebar's body: filter, groups of sessions, the track-by-id form. */
export function SessionList(props: ISessionListProps): JSX.Element {
  const { model, actions, trans } = props;
  const store = model.store;
  useStoreFacts(store);
  const busyVersion = useSignalVersion(actions.busyChanged);
  const settingsVersion = useSignalVersion(model.settingsChanged);
  const [filter, setFilter] = React.useState('');
  const [show, setShow] = React.useState<'open' | 'all'>('all');
  const [expanded, setExpanded] = React.useState<ReadonlySet<string>>(
    () => new Set()
  );
  const [collapsed, setCollapsed] = React.useState<ReadonlySet<string>>(
    () => new Set(['closed'])
  );
  useViewState(props.state ?? null, model, {
    show,
    collapsed,
    expanded,
    restore: view => {
      setShow(view.show);
      setCollapsed(new Set(view.collapsed));
      setExpanded(new Set(view.expanded));
    }
  });

  const onToggle = React.useCallback((id: string) => {
    setExpanded(previous => {
      const next = new Set(previous);
      if (!next.delete(id)) {
        next.add(id);
      }
      return next;
    });
  }, []);

  // "Show in sidebar": make the session visible, expanded and focused.
  React.useEffect(() => {
    const reveal = (_: unknown, id: string) => {
      setFilter('');
      setShow('all');
      setCollapsed(new Set());
      setExpanded(previous => new Set(previous).add(id));
      requestAnimationFrame(() => {
        const row = document.getElementById(`jp-SessionMonitor-session-${id}`);
        row?.scrollIntoView({ block: 'nearest' });
        row?.querySelector<HTMLElement>('.jp-SessionMonitor-expand')?.focus();
      });
    };
    model.revealRequested.connect(reveal);
    return () => void model.revealRequested.disconnect(reveal);
  }, [model]);

  const settings = model.settings;
  const offset = store.clockOffset;
  const groups = useLayout(store, {
    filter,
    show,
    recentlyClosedMinutes: settings.recentlyClosedMinutes,
    settingsVersion
  });
  const stale = store.connection === 'reconnecting';
  const fetchOne = React.useCallback(
    (id: string) => model.fetchTimeline(id),
    [model]
  );

  if (store.connection === 'loading' && store.sessions.size === 0) {
    return (
      <p className="jp-SessionMonitor-loading" role="status">
        {trans.__('Loading sessions…')}
      </p>
    );
  }
  if (store.connection === 'error' && store.version === 0) {
    return (
      <div className="jp-SessionMonitor-body">
        <div className="jp-SessionMonitor-error" role="alert">
          <p>
            <strong>{trans.__('The session monitor is not available.')}</strong>{' '}
            {store.error}
          </p>
          <button
            type="button"
            className="jp-mod-styled jp-mod-accept"
            onClick={() => {
              props.onRetry?.();
              void model.refresh();
            }}
          >
            {trans.__('Retry')}
          </button>
        </div>
        {props.footer}
      </div>
    );
  }

  const total = store.sessions.size;
  return (
    <div className="jp-SessionMonitor-body" data-busy-version={busyVersion}>
      {stale && (
        <div className="jp-SessionMonitor-banner" role="status">
          {trans.__(
            'Reconnecting to the Jupyter server… the numbers below may be out of date.'
          )}
        </div>
      )}
      {store.connection === 'error' && store.version !== 0 && (
        <div className="jp-SessionMonitor-banner" role="alert">
          {trans.__('Could not reload the sessions: %1', store.error ?? '')}{' '}
          <button
            type="button"
            className="jp-mod-styled"
            onClick={() => void model.refresh()}
          >
            {trans.__('Retry')}
          </button>
        </div>
      )}
      {total > 0 && (
        <MoneyHeader
          model={model}
          trans={trans}
          onSetRate={() => void actions.editRate()}
          onCloseAll={() => void actions.confirmCloseAll()}
          onExport={() => void actions.downloadHistory()}
        />
      )}
      {total > 0 && (
        <div className="jp-SessionMonitor-toolbar">
          <input
            type="search"
            className="jp-mod-styled jp-SessionMonitor-filter"
            placeholder={trans.__('Filter…')}
            aria-label={trans.__('Filter sessions by id, backend or tag')}
            value={filter}
            onChange={event => setFilter(event.target.value)}
          />
          <div
            className="jp-SessionMonitor-toggle"
            role="group"
            aria-label={trans.__('Which sessions to show')}
          >
            {(['open', 'all'] as const).map(value => (
              <button
                key={value}
                type="button"
                className="jp-mod-styled"
                aria-pressed={show === value}
                onClick={() => setShow(value)}
              >
                {value === 'open' ? trans.__('Open') : trans.__('All')}
              </button>
            ))}
          </div>
          <button
            type="button"
            className="jp-SessionMonitor-iconButton jp-SessionMonitor-trackButton"
            aria-label={trans.__('Track a session by id')}
            title={trans.__('Track a session by id')}
            aria-controls={TRACK_INPUT_ID}
            onClick={() => {
              const input = document.getElementById(TRACK_INPUT_ID);
              input?.scrollIntoView({ block: 'nearest' });
              input?.focus();
            }}
          >
            {ADD_ICON}
          </button>
        </div>
      )}
      {total === 0 && <EmptyState trans={trans} />}
      <TrackForm model={model} trans={trans} />
      {total > 0 && groups.length === 0 && (
        <p
          className="jp-SessionMonitor-muted jp-SessionMonitor-pad"
          role="status"
        >
          {filter
            ? trans.__('No session matches “%1”.', filter)
            : trans.__('No open session. Closed ones are under “All”.')}
        </p>
      )}
      {groups.map(group => (
        <Group
          key={group.key}
          group={group}
          collapsed={collapsed.has(group.key)}
          onCollapse={() =>
            setCollapsed(previous => {
              const next = new Set(previous);
              if (!next.delete(group.key)) {
                next.add(group.key);
              }
              return next;
            })
          }
          trans={trans}
          openNotebook={props.openNotebook}
          ticker={model.ticker}
          offset={offset}
          store={store}
        >
          {group.ids.map(id => (
            <LiveRow
              key={id}
              store={store}
              id={id}
              expanded={expanded.has(id)}
              onToggle={onToggle}
              actions={actions}
              busy={actions.busy(id)}
              ticker={model.ticker}
              offset={offset}
              trans={trans}
              stale={stale}
              showDetails={settings.showDetails}
              showTimeline={settings.showTimeline}
              filter={filter}
              fetchOne={fetchOne}
              openNotebook={
                group.kind === 'notebook' ? undefined : props.openNotebook
              }
            />
          ))}
        </Group>
      ))}
      {props.footer}
    </div>
  );
}
