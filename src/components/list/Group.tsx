import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import { groupTitle } from '../../present';
import type { ISessionView, SessionStore } from '../../store/sessionStore';
import type { Ticker } from '../../ticker';
import { TotalBilled } from '../Money';
import { ISessionRowProps, SessionRow } from '../row';
import { CARET_DOWN, CARET_RIGHT } from './icons';
import { IGroupLayout } from './layout';

/** A row that reads its session from the store and re-renders on changes to it alone. */
export const LiveRow = React.memo(function LiveRow(
  props: Omit<ISessionRowProps, 'view'> & { store: SessionStore; id: string }
): JSX.Element | null {
  const { store, id, ...rest } = props;
  const view = React.useSyncExternalStore(
    React.useCallback(
      (listener: () => void) => store.watch(id, listener),
      [store, id]
    ),
    () => store.sessions.get(id)
  );
  return view ? <SessionRow view={view} {...rest} /> : null;
});

/** The sessions of these ids as the store holds them now, re-rendering on changes to them. */
function useViews(store: SessionStore, ids: string[]): ISessionView[] {
  const last = React.useRef<ISessionView[]>([]);
  const read = () => {
    const views = ids
      .map(id => store.sessions.get(id))
      .filter((view): view is ISessionView => view !== undefined);
    const same =
      views.length === last.current.length &&
      views.every((view, i) => view === last.current[i]);
    if (!same) {
      last.current = views;
    }
    return last.current;
  };
  return React.useSyncExternalStore(
    React.useCallback(
      (listener: () => void) => {
        const stops = ids.map(id => store.watch(id, listener));
        return () => stops.forEach(stop => stop());
      },
      [store, ids]
    ),
    read
  );
}

/** A notebook group's billed total, live: it follows changes to the group's sessions. */
function GroupTotal(props: {
  store: SessionStore;
  ids: string[];
  ticker: Ticker;
  offset: number;
  trans: TranslationBundle;
}): JSX.Element | null {
  const views = useViews(props.store, props.ids);
  return (
    <TotalBilled
      views={views}
      ticker={props.ticker}
      offset={props.offset}
      trans={props.trans}
      label={props.trans.__(
        'Billed so far by this notebook’s sessions shown here'
      )}
    />
  );
}

export function Group(props: {
  group: IGroupLayout;
  collapsed: boolean;
  onCollapse: () => void;
  trans: TranslationBundle;
  openNotebook: (path: string) => void;
  ticker: Ticker;
  offset: number;
  store: SessionStore;
  children: React.ReactNode;
}): JSX.Element {
  const { group, collapsed, trans } = props;
  const title = groupTitle(group, trans);
  const listId = `jp-SessionMonitor-group-${group.key}`;
  return (
    <section
      className={`jp-SessionMonitor-group jp-mod-${group.kind}`}
      aria-label={title}
      data-group={group.key}
    >
      <h3 className="jp-SessionMonitor-groupHeader">
        <button
          type="button"
          className="jp-SessionMonitor-groupToggle"
          aria-expanded={!collapsed}
          aria-controls={listId}
          aria-label={
            collapsed ? trans.__('Show %1', title) : trans.__('Hide %1', title)
          }
          onClick={props.onCollapse}
        >
          {collapsed ? CARET_RIGHT : CARET_DOWN}
        </button>
        {group.kind === 'notebook' ? (
          <button
            type="button"
            className="jp-SessionMonitor-notebookLink"
            title={trans.__('Open %1', group.path ?? '')}
            onClick={() => props.openNotebook(group.path ?? '')}
          >
            {title}
          </button>
        ) : (
          <button
            type="button"
            className="jp-SessionMonitor-groupTitle"
            aria-expanded={!collapsed}
            aria-controls={listId}
            tabIndex={-1}
            onClick={props.onCollapse}
          >
            {title}
          </button>
        )}
        {group.kind === 'notebook' && (
          <GroupTotal
            store={props.store}
            ids={group.ids}
            ticker={props.ticker}
            offset={props.offset}
            trans={trans}
          />
        )}
        <span className="jp-SessionMonitor-count">{group.ids.length}</span>
      </h3>
      {!collapsed && (
        <ul id={listId} className="jp-SessionMonitor-sessions">
          {props.children}
        </ul>
      )}
    </section>
  );
}
