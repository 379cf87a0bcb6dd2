import {
  nullTranslator,
  type TranslationBundle
} from '@jupyterlab/translation';
import { Signal } from '@lumino/signaling';
import * as React from 'react';
import { act } from 'react';
import { describe, expect, it } from 'vitest';

import type { SessionActions } from '../actions';
import { SessionRow } from '../components/row';
import type { ISessionView } from '../store/sessionStore';
import { Ticker } from '../ticker';
import { job, sessionView, withJobs } from './fixtures';
import { render } from './render';

const trans = nullTranslator.load('jupyter_session_monitor');
/** The bundle's own `__`, for a bundle that records what is asked of it. */
const translate = trans.__.bind(trans);
const actions = {
  busy: () => false,
  busyChanged: new Signal<unknown, void>({}),
  confirmJobCancel: async () => true
} as unknown as SessionActions;
const ticker = new Ticker();

function row(
  view: ISessionView,
  bundle: TranslationBundle
): React.ReactElement {
  return (
    <ul>
      <SessionRow
        view={view}
        expanded
        onToggle={() => undefined}
        actions={actions}
        busy={false}
        ticker={ticker}
        offset={0}
        trans={bundle}
        stale={false}
        showDetails={false}
        showTimeline={false}
        fetchOne={async () => view}
      />
    </ul>
  );
}

describe('the job table of an expanded row', () => {
  it('renders a job again when its values change, and not when only its session does', () => {
    const asked: unknown[] = [];
    const recording = Object.create(trans) as TranslationBundle;
    recording.__ = (message: string, ...args: unknown[]) => {
      if (message === 'Copy job id %1') {
        asked.push(args[0]);
      }
      return translate(message, ...(args as string[]));
    };
    const first = sessionView(
      withJobs([job('job-1', 'RUNNING'), job('job-2', 'QUEUED')])
    );
    const { container, root } = render(row(first, recording));
    expect(asked).toEqual(['job-1', 'job-2']);
    asked.length = 0;

    // A pushed change: the session anew, every job parsed anew, job-1 finished.
    const second = sessionView({
      last_polled_at: '2026-01-01T12:00:05.000Z',
      ...withJobs([job('job-1', 'DONE'), job('job-2', 'RUNNING')])
    });
    act(() => root.render(row(second, recording)));
    const status = (id: string) =>
      container.querySelector(
        `tr[data-job-id="${id}"] [data-testid="job-status"]`
      )?.textContent;
    expect(status('job-1')).toBe('DONE');
    expect(status('job-2')).toBe('RUNNING');
    expect(asked.sort()).toEqual(['job-1', 'job-2']);
    asked.length = 0;

    // Only the poll time moves: the jobs hold the same values in new objects.
    const third = {
      ...second,
      last_polled_at: '2026-01-01T12:00:10.000Z',
      ...withJobs([job('job-1', 'DONE'), job('job-2', 'RUNNING')])
    };
    act(() => root.render(row(third, recording)));
    expect(asked).toEqual([]);
    expect(status('job-2')).toBe('RUNNING');
  });
});
