import { ServerConnection } from '@jupyterlab/services';
import {
  nullTranslator,
  type TranslationBundle
} from '@jupyterlab/translation';
import * as React from 'react';
import { act } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { SessionActions } from '../actions';
import { SessionList } from '../components/list';
import { MonitorModel } from '../store/model';
import type { ISessionView } from '../store/sessionStore';
import { job, sessionView, withJobs } from './fixtures';
import { render } from './render';

const trans = nullTranslator.load('jupyter_session_monitor');
/** The bundle's own `__`, for a bundle that records what is asked of it. */
const translate = trans.__.bind(trans);

/** A bundle that records the messages asked of it (each component render asks its words). */
function recordingTrans(asked: unknown[][]): TranslationBundle {
  const bundle = Object.create(trans) as TranslationBundle;
  bundle.__ = (message: string, ...args: unknown[]) => {
    asked.push([message, ...args]);
    return translate(message, ...(args as string[]));
  };
  return bundle;
}

/** A model whose store holds these sessions (the fake server answers the snapshot). */
async function modelWith(
  sessions: ISessionView[],
  serverTime = new Date().toISOString()
): Promise<MonitorModel> {
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://127.0.0.1:8888/',
    wsUrl: 'ws://127.0.0.1:1/',
    fetch: (async () =>
      new Response(
        JSON.stringify({ sessions, server_time: serverTime, version: 1 }),
        { status: 200 }
      )) as unknown as typeof fetch
  });
  const model = new MonitorModel(settings);
  await model.store.resync();
  return model;
}

function list(model: MonitorModel, trans: TranslationBundle): HTMLElement {
  const actions = new SessionActions(model, trans);
  return render(
    <SessionList
      model={model}
      actions={actions}
      trans={trans}
      openNotebook={() => undefined}
    />
  ).container;
}

const A = sessionView({ id: 'aaaaaaaa-1', tracked_at: '2026-01-01T12:00:03Z' });
const B = sessionView({ id: 'bbbbbbbb-1', tracked_at: '2026-01-01T12:00:02Z' });
const C = sessionView({
  id: 'cccccccc-1',
  notebook_path: null,
  source: 'tracked',
  tracked_at: '2026-01-01T12:00:01Z'
});

/** The rows' session ids, group by group. */
function layout(container: HTMLElement): Record<string, string[]> {
  const groups: Record<string, string[]> = {};
  for (const group of container.querySelectorAll<HTMLElement>('[data-group]')) {
    groups[group.dataset.group!] = [
      ...group.querySelectorAll<HTMLElement>('[data-session-id]')
    ].map(row => row.dataset.sessionId!);
  }
  return groups;
}

/** Which rows rendered: each row asks for its expand button's label with its short id. */
function rowsRendered(asked: unknown[][]): unknown[] {
  return asked
    .filter(call => call[0] === 'Session %1 on %2, %3')
    .map(call => call[1]);
}

describe('SessionList and pushed changes', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('re-renders only the changed row when a change moves no session', async () => {
    const model = await modelWith([A, B, C]);
    const asked: unknown[][] = [];
    const container = list(model, recordingTrans(asked));
    expect(rowsRendered(asked)).toEqual(['aaaaaaaa', 'bbbbbbbb', 'cccccccc']);
    asked.length = 0;

    act(() =>
      model.store.apply({
        version: 2,
        kind: 'updated',
        session_id: B.id,
        session: { ...B, ...withJobs([job('j1', 'RUNNING')]) }
      })
    );

    expect(rowsRendered(asked)).toEqual(['bbbbbbbb']);
    // The list itself did not render again (it asks for its filter's placeholder when it does).
    expect(asked.some(call => call[0] === 'Filter…')).toBe(false);
    const row = container.querySelector(`[data-session-id="${B.id}"]`)!;
    expect(row.querySelector('[data-testid="job-counts"]')?.textContent).toBe(
      '1 running'
    );
    expect(layout(container)).toEqual({
      'notebook:chemistry/vqe.ipynb': [A.id, B.id],
      elsewhere: [C.id]
    });
  });

  it('moves a row to its new group when a change moves the session, and lists added ones', async () => {
    const model = await modelWith([A, B, C]);
    const container = list(model, trans);

    act(() =>
      model.store.apply({
        version: 2,
        kind: 'updated',
        session_id: A.id,
        session: { ...A, orphaned: true }
      })
    );
    expect(layout(container)).toEqual({
      orphaned: [A.id],
      'notebook:chemistry/vqe.ipynb': [B.id],
      elsewhere: [C.id]
    });

    const D = sessionView({
      id: 'dddddddd-1',
      tracked_at: '2026-01-01T12:00:09Z'
    });
    act(() =>
      model.store.apply({
        version: 3,
        kind: 'added',
        session_id: D.id,
        session: D
      })
    );
    act(() =>
      model.store.apply({
        version: 4,
        kind: 'removed',
        session_id: C.id,
        session: null
      })
    );
    expect(layout(container)).toEqual({
      orphaned: [A.id],
      'notebook:chemistry/vqe.ipynb': [D.id, B.id]
    });
  });

  it('drops a closed session from "Recently closed" at the next change after its time is up', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.parse('2026-01-01T13:00:00Z');
    vi.setSystemTime(start);
    const closed = sessionView({
      id: 'eeeeeeee-1',
      state: 'closed',
      status: 'Closed',
      details: { closed_at: '2026-01-01T12:00:30Z' } // 59.5 min before start
    });
    const model = await modelWith([A, closed], new Date(start).toISOString());
    const container = list(model, trans);
    expect(Object.keys(layout(container))).toEqual([
      'notebook:chemistry/vqe.ipynb',
      'closed'
    ]);

    vi.setSystemTime(start + 60_000);
    act(() =>
      model.store.apply({
        version: 2,
        kind: 'updated',
        session_id: A.id,
        session: { ...A, last_polled_at: new Date().toISOString() }
      })
    );
    expect(Object.keys(layout(container))).toEqual([
      'notebook:chemistry/vqe.ipynb'
    ]);
  });
});
