import { nullTranslator } from '@jupyterlab/translation';
import { Signal } from '@lumino/signaling';
import { readFileSync } from 'fs';
import * as React from 'react';
import { act } from 'react';
import { describe, expect, it } from 'vitest';

import type { SessionActions } from '../actions';
import { SessionCard } from '../components/SessionCard';
import type { MonitorModel } from '../store/model';
import { SessionStore } from '../store/sessionStore';
import { Ticker } from '../ticker';
import { PACKAGE_VERSION } from '../version';
import { job, sessionView, withJobs } from './fixtures';
import { render } from './render';

const trans = nullTranslator.load('jupyter_session_monitor');

describe('the widget module', () => {
  it('is registered with the package version the kernel asks for', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    expect(PACKAGE_VERSION).toBe(pkg.version);
  });
});

describe('SessionCard', () => {
  it('waits for the session, then shows what the sidebar shows, from the same store', async () => {
    const view = sessionView(withJobs([job('a', 'RUNNING'), job('b', 'DONE')]));
    let answer: (value: unknown) => void = () => undefined;
    const store = new SessionStore(
      () =>
        new Promise(resolve => {
          answer = resolve as (value: unknown) => void;
        })
    );
    const withTimes = {
      ...view,
      created_at: '2026-01-01T11:59:00.000Z',
      timeline: [],
      jobs: (view.jobs ?? []).map(j => ({
        ...j,
        started: '2026-01-01T12:00:02.000Z',
        finished: j.status === 'DONE' ? '2026-01-01T12:00:04.000Z' : null
      }))
    };
    const model = {
      store,
      ticker: new Ticker(),
      fetchTimeline: async () => withTimes
    } as unknown as MonitorModel;
    const actions = {
      busy: () => false,
      busyChanged: new Signal<unknown, void>({}),
      confirmSessionAction: async () => true
    } as unknown as SessionActions;
    const revealed: string[] = [];
    const { container } = render(
      <SessionCard
        sessionId={view.id}
        model={model}
        actions={actions}
        trans={trans}
        reveal={id => revealed.push(id)}
      />
    );
    expect(container.textContent).toContain(
      'Waiting for the monitor to see session a11199df'
    );

    const loaded = store.resync();
    answer({
      sessions: [view],
      server_time: '2026-01-01T12:00:00.000Z',
      version: 1
    });
    await act(async () => loaded);

    expect(
      container.querySelector('[data-testid=session-status]')?.textContent
    ).toBe('In progress, accepting new jobs');
    expect(
      container.querySelector('[data-testid=job-counts]')?.textContent
    ).toBe('1 running · 1 done');
    // The compact timeline, drawn from the session's timeline (both jobs as bars).
    await act(async () => undefined);
    const picture = container.querySelector('[data-testid=timeline-picture]');
    expect(picture?.getAttribute('data-jobs')).toBe('2');
    const reveal = [...container.querySelectorAll('button')].find(
      b => b.textContent === 'Show in sidebar'
    );
    act(() => reveal?.click());
    expect(revealed).toEqual([view.id]);
  });
});
