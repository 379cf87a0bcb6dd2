import type { IStateDB } from '@jupyterlab/statedb';
import type { ReadonlyPartialJSONValue } from '@lumino/coreutils';
import * as React from 'react';
import type { MonitorModel } from '../../store/model';

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

/**
 * Restores the view from the state database once, then saves it on every change (rows of
 * sessions no longer listed are dropped once the list has loaded).
 */
export function useViewState(
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
