import type { IStateDB } from '@jupyterlab/statedb';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { ReadonlyPartialJSONValue } from '@lumino/coreutils';
import {
  addIcon,
  caretDownIcon,
  caretRightIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import type { SessionActions } from '../actions';
import { useSignalVersion } from '../hooks';
import type { MonitorModel } from '../model';
import {
  closedListedUntil,
  groupSessions,
  groupTitle,
  GroupKind,
  IGroupOptions,
  placementOf
} from '../present';
import type { ISessionView, SessionStore } from '../sessionStore';
import type { Ticker } from '../ticker';
import { MoneyHeader, TotalBilled } from './Money';
import { ISessionRowProps, SessionRow } from './SessionRow';

// Code and commands shown as they are typed: not prose, so not translated.
const OPEN_SESSION_SAMPLE = `from qiskit_ibm_runtime import QiskitRuntimeService, Session, SamplerV2

service = QiskitRuntimeService()
backend = service.least_busy()
with Session(backend=backend) as session:
    sampler = SamplerV2(mode=session)`;
const DEMO_COMMAND = './dev demo';
const EMULATOR_COMMAND =
  'python -m jupyter_session_monitor.emulator serve --port 8765';

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

// Icons as elements made once, so that a render of the list leaves them alone (see SessionRow).
const CARET_RIGHT = <caretRightIcon.react tag="span" elementSize="small" />;
const CARET_DOWN = <caretDownIcon.react tag="span" elementSize="small" />;
const ADD_ICON = <addIcon.react tag="span" elementSize="normal" />;

/** The key of the view in the state database. */
export const VIEW_STATE_KEY = 'jupyter-session-monitor:view';

/** The view as kept in the state database. */
export interface IViewState {
  show: 'open' | 'all';
  collapsed: string[];
  expanded: string[];
}

/** A stored view, checked (a workspace file can hold anything): null when unusable. */
export function viewStateFrom(value: unknown): IViewState | null {
  if (typeof value !== 'object' || value === null) {
    return null;
  }
  const { show, collapsed, expanded } = value as Record<string, unknown>;
  const strings = (list: unknown) =>
    Array.isArray(list) && list.every(item => typeof item === 'string');
  if (
    (show !== 'open' && show !== 'all') ||
    !strings(collapsed) ||
    !strings(expanded)
  ) {
    return null;
  }
  return {
    show,
    collapsed: collapsed as string[],
    expanded: expanded as string[]
  };
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

/** A group as the list lays it out: its sessions by id (each row reads its own view). */
interface IGroupLayout {
  key: string;
  kind: GroupKind;
  path: string | null;
  ids: string[];
}

/** The groups, and what tells whether a change moves anything in them. */
interface ILayout {
  groups: IGroupLayout[];
  /** Every session's placement (`placementOf`) when the groups were made. */
  placements: Map<string, string>;
  /** When a listed closed session leaves "Recently closed" (server ms). */
  until: number;
}

type LayoutOptions = Omit<IGroupOptions, 'now'> & { settingsVersion: number };

function layoutOf(store: SessionStore, options: LayoutOptions): ILayout {
  const groupOptions = { ...options, now: Date.now() - store.clockOffset };
  const groups = groupSessions(store.sessions.values(), groupOptions);
  const placements = new Map<string, string>();
  for (const [id, view] of store.sessions) {
    placements.set(id, placementOf(view, groupOptions));
  }
  const closed = groups.find(group => group.kind === 'closed');
  return {
    groups: groups.map(group => ({
      key: group.key,
      kind: group.kind,
      path: group.path,
      ids: group.sessions.map(view => view.id)
    })),
    placements,
    until: closed
      ? closedListedUntil(closed.sessions, options.recentlyClosedMinutes)
      : Number.POSITIVE_INFINITY
  };
}

function sameGroups(a: IGroupLayout[], b: IGroupLayout[]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (group, i) =>
        group.key === b[i].key &&
        group.ids.length === b[i].ids.length &&
        group.ids.every((id, j) => id === b[i].ids[j])
    )
  );
}

/**
 * The groups of sessions, by id, made again only when a change moves a session (into or out of
 * a group, or within one), adds or removes one, or a closed one has been listed long enough; a
 * change that moves nothing leaves the list as it is and re-renders only its rows.
 */
function useLayout(
  store: SessionStore,
  options: LayoutOptions
): IGroupLayout[] {
  const key = JSON.stringify(options);
  const made = React.useRef<{ key: string; layout: ILayout } | null>(null);
  if (made.current === null || made.current.key !== key) {
    made.current = { key, layout: layoutOf(store, options) };
  }
  const latest = React.useRef(options);
  latest.current = options;
  const [, setVersion] = React.useState(0);
  React.useEffect(() => {
    const changed = () => {
      const current = made.current!;
      const options = latest.current;
      const now = Date.now() - store.clockOffset;
      const touched = store.lastChanged;
      const moved =
        touched === null ||
        now >= current.layout.until ||
        [...touched].some(
          id =>
            placementOf(store.sessions.get(id), { ...options, now }) !==
            (current.layout.placements.get(id) ?? '')
        );
      if (!moved) {
        return;
      }
      const next = layoutOf(store, options);
      const same = sameGroups(current.layout.groups, next.groups);
      if (same) {
        next.groups = current.layout.groups;
      }
      made.current = { key: current.key, layout: next };
      if (!same) {
        setVersion(version => version + 1);
      }
    };
    store.changed.connect(changed);
    return () => void store.changed.disconnect(changed);
  }, [store]);
  return made.current.layout.groups;
}

/**
 * Re-renders the list when what it shows of the store itself changes (connection, error,
 * whether there are sessions, the clock offset), not on every change to a session.
 */
function useStoreFacts(store: SessionStore): void {
  const facts = () =>
    [
      store.connection,
      store.error,
      store.sessions.size,
      store.version === 0,
      store.clockOffset
    ].join('\n');
  React.useSyncExternalStore(
    React.useCallback(
      (listener: () => void) => {
        store.changed.connect(listener);
        return () => void store.changed.disconnect(listener);
      },
      [store]
    ),
    facts
  );
}

/** A row that reads its session from the store and re-renders on changes to it alone. */
const LiveRow = React.memo(function LiveRow(
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

function Group(props: {
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

function EmptyState({ trans }: { trans: TranslationBundle }): JSX.Element {
  return (
    <div className="jp-SessionMonitor-empty">
      <h3>{trans.__('No Qiskit Runtime sessions yet')}</h3>
      <p>
        {trans.__(
          'A session reserves a quantum computer for a series of jobs and is billed for the time it stays open, idle gaps included. Sessions opened from notebooks on this server appear here by themselves, grouped by notebook.'
        )}
      </p>
      <p>{trans.__('To open one in a notebook:')}</p>
      <CodeSample code={OPEN_SESSION_SAMPLE} />
      <p>
        {trans.__(
          'No IBM Quantum account? The local emulator answers like the real service. From a clone of this project, this starts it with JupyterLab:'
        )}
      </p>
      <CodeSample code={DEMO_COMMAND} />
      <p>
        {trans.__(
          'or run it alone and use the environment variables it prints:'
        )}
      </p>
      <CodeSample code={EMULATOR_COMMAND} />
      <p>
        {trans.__(
          'A session opened elsewhere (another machine, a script) can be tracked by its id below.'
        )}
      </p>
    </div>
  );
}

/**
 * Code as typed, wrapped only at spaces and after a dot or before a parenthesis (`<wbr>`, which a
 * copy leaves out), never inside a name.
 */
export function CodeSample({ code }: { code: string }): JSX.Element {
  const pieces = code.split(/(?<=\.)|(?=\()/);
  return (
    <pre className="jp-SessionMonitor-code">
      {pieces.map((piece, index) => (
        <React.Fragment key={index}>
          {index > 0 && <wbr />}
          {piece}
        </React.Fragment>
      ))}
    </pre>
  );
}

/**
 * Restores the view from the state database once, then saves it on every change (rows of
 * sessions no longer listed are dropped once the list has loaded).
 */
function useViewState(
  state: IStateDB | null,
  model: MonitorModel,
  view: {
    show: 'open' | 'all';
    collapsed: ReadonlySet<string>;
    expanded: ReadonlySet<string>;
    restore: (view: IViewState) => void;
  }
): void {
  const [restored, setRestored] = React.useState(false);
  React.useEffect(() => {
    if (!state) {
      return;
    }
    let gone = false;
    state.fetch(VIEW_STATE_KEY).then(
      value => {
        const stored = viewStateFrom(value);
        if (!gone) {
          if (stored) {
            view.restore(stored);
          }
          setRestored(true);
        }
      },
      () => !gone && setRestored(true)
    );
    return () => {
      gone = true;
    };
  }, [state]);
  React.useEffect(() => {
    if (!state || !restored) {
      return;
    }
    const sessions = model.store.sessions;
    const loaded = model.store.version > 0;
    const value: IViewState = {
      show: view.show,
      collapsed: [...view.collapsed],
      expanded: [...view.expanded].filter(id => !loaded || sessions.has(id))
    };
    void state.save(
      VIEW_STATE_KEY,
      value as unknown as ReadonlyPartialJSONValue
    );
  }, [state, restored, view.show, view.collapsed, view.expanded]);
}

const TRACK_INPUT_ID = 'jp-SessionMonitor-trackId';

/** Tracking a session by id: at the top of the list, under the toolbar (whose + reaches it). */
function TrackForm(props: {
  model: MonitorModel;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, trans } = props;
  const [value, setValue] = React.useState('');
  const [busy, setBusy] = React.useState(false);
  const [error, setError] = React.useState<string | null>(null);
  const inputId = TRACK_INPUT_ID;
  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    const id = value.trim();
    if (!id) {
      setError(
        trans.__('Enter a session id, as `session.session_id` shows it.')
      );
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const view = await model.track(id);
      setValue('');
      model.reveal(view.id);
    } catch (reason) {
      setError((reason as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      className="jp-SessionMonitor-track"
      onSubmit={event => void submit(event)}
      aria-label={trans.__('Track a session by id')}
    >
      <label htmlFor={inputId}>{trans.__('Track a session by id')}</label>
      <div className="jp-SessionMonitor-trackRow">
        <input
          id={inputId}
          className="jp-mod-styled"
          value={value}
          placeholder={trans.__('session id')}
          spellCheck={false}
          autoComplete="off"
          onChange={event => setValue(event.target.value)}
          aria-invalid={error !== null}
          aria-describedby={error ? `${inputId}-error` : undefined}
        />
        <button
          type="submit"
          className="jp-mod-styled jp-mod-accept"
          disabled={busy}
        >
          {busy ? trans.__('Tracking…') : trans.__('Track')}
        </button>
      </div>
      {error && (
        <p
          id={`${inputId}-error`}
          className="jp-SessionMonitor-formError"
          role="alert"
        >
          {error}
        </p>
      )}
    </form>
  );
}
