import * as React from 'react';
import {
  closedListedUntil,
  groupSessions,
  GroupKind,
  IGroupOptions,
  placementOf
} from '../../present';
import type { SessionStore } from '../../store/sessionStore';

/** A group as the list lays it out: its sessions by id (each row reads its own view). */
export interface IGroupLayout {
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
export function useLayout(
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
export function useStoreFacts(store: SessionStore): void {
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
