import { nullTranslator } from '@jupyterlab/translation';
import { Signal } from '@lumino/signaling';
import * as React from 'react';
import { describe, expect, it } from 'vitest';

import type { SessionActions } from '../actions';
import { CodeSample, viewStateFrom } from '../components/SessionList';
import { isTimestamp, SessionRow } from '../components/SessionRow';
import type { ISessionView } from '../sessionStore';
import { Ticker } from '../ticker';
import { job, sessionView, withJobs } from './fixtures';
import { render } from './render';

const trans = nullTranslator.load('jupyter_session_monitor');

function rowOf(view: ISessionView, expanded = false, filter = ''): HTMLElement {
  const actions = {
    busy: () => false,
    busyChanged: new Signal<unknown, void>({}),
    confirmSessionAction: async () => true,
    confirmJobCancel: async () => true
  } as unknown as SessionActions;
  const { container } = render(
    <ul>
      <SessionRow
        view={view}
        expanded={expanded}
        onToggle={() => undefined}
        actions={actions}
        busy={false}
        ticker={new Ticker()}
        offset={0}
        trans={trans}
        stale={false}
        showDetails
        showTimeline={false}
        fetchOne={async () => view}
        filter={filter}
      />
    </ul>
  );
  return container;
}

describe('SessionRow', () => {
  it('renders tags and ids as text, never as markup', () => {
    const hostile = '<img src=x onerror=alert(1)>';
    const container = rowOf(
      sessionView(withJobs([job('j1', 'DONE', [hostile])])),
      true
    );

    const tag = container.querySelector('.jp-SessionMonitor-tag');
    expect(tag?.textContent).toBe(hostile);
    expect(container.querySelector('img')).toBeNull();
  });

  it('shows the status in Qiskit words, the backend, the mode and the counts', () => {
    const container = rowOf(
      sessionView({
        mode: 'batch',
        ...withJobs([job('a', 'QUEUED'), job('b', 'DONE')])
      })
    );

    expect(
      container.querySelector('[data-testid=session-status]')?.textContent
    ).toBe('In progress, accepting new jobs');
    expect(
      container.querySelector('.jp-SessionMonitor-mode')?.textContent
    ).toBe('batch');
    expect(
      container.querySelector('[data-testid=job-counts]')?.textContent
    ).toBe('1 queued · 1 done');
  });

  it('offers Cancel but not Close once the session stops accepting jobs', () => {
    const labels = (view: ISessionView) =>
      [
        ...rowOf(view).querySelectorAll('.jp-SessionMonitor-actions button')
      ].map(b => b.getAttribute('aria-label'));

    expect(labels(sessionView())).toEqual([
      'Close session a11199df',
      'Budget for session a11199df',
      'Cancel session a11199df'
    ]);
    expect(labels(sessionView({ accepting_jobs: false }))).toEqual([
      'Budget for session a11199df',
      'Cancel session a11199df'
    ]);
    expect(
      labels(sessionView({ state: 'closed', end_reason: 'closed' }))
    ).toEqual([]);
  });

  it('says when polling fails and why, instead of presenting old numbers as live', () => {
    const container = rowOf(
      sessionView({
        stale: true,
        error: {
          kind: 'unauthorized',
          message: 'The saved token was refused. Save a new one.'
        }
      })
    );

    const updated = container.querySelector('.jp-SessionMonitor-updated');
    expect(updated?.textContent).toContain('last updated');
    expect(updated?.textContent).toContain('The saved token was refused.');
    expect(
      container.querySelector('.jp-SessionMonitor-staleNote')
    ).not.toBeNull();
  });

  it('offers Cancel only on queued and running jobs', () => {
    const container = rowOf(
      sessionView(
        withJobs([
          job('queued1', 'QUEUED'),
          job('running', 'RUNNING'),
          job('done1', 'DONE')
        ])
      ),
      true
    );

    const cancels = [
      ...container.querySelectorAll('.jp-SessionMonitor-jobs button')
    ].map(b => b.getAttribute('aria-label'));
    expect(cancels).toEqual(['Cancel job running', 'Cancel job queued1']);
  });

  it('gives each job Cancel a name, a tooltip and a word for wide panels', () => {
    const container = rowOf(
      sessionView(withJobs([job('queued1', 'QUEUED')])),
      true
    );

    const button = container.querySelector('.jp-SessionMonitor-jobCancel');
    expect(button?.getAttribute('aria-label')).toBe('Cancel job queued1');
    expect(button?.getAttribute('title')).toBe('Cancel job queued1');
    expect(
      button?.querySelector('.jp-SessionMonitor-jobCancelLabel')?.textContent
    ).toBe('Cancel');
  });

  it('keeps details() times on one line and lets other values wrap', () => {
    const container = rowOf(
      sessionView({
        details: {
          started_at: '2026-01-01T12:00:01.123456Z',
          activated_at: '2026-01-01T12:00:01+00:00',
          backend_name: 'ibm_torino',
          timestamps: []
        }
      }),
      true
    );

    const times = [
      ...container.querySelectorAll('.jp-SessionMonitor-detailList dd')
    ].map(dd => dd.classList.contains('jp-mod-time'));
    expect(times).toEqual([true, true, false]);
    expect(isTimestamp('2026-01-01')).toBe(false);
    expect(isTimestamp(12)).toBe(false);
  });

  it('shows the status on one line with its words as a tooltip', () => {
    const container = rowOf(sessionView());

    const badge = container.querySelector('[data-testid="session-status"]');
    expect(badge?.getAttribute('title')).toBe(
      'In progress, accepting new jobs'
    );
    // In the summary line, beside the backend, not on a line of its own.
    expect(badge?.parentElement?.className).toBe('jp-SessionMonitor-summary');
  });
});

describe('SessionRow under a tag filter', () => {
  it('lists only the matching jobs and says how many are hidden', () => {
    const view = sessionView(
      withJobs([
        job('j1', 'DONE', ['optimizer-a']),
        job('j2', 'DONE', ['optimizer-b']),
        job('j3', 'DONE', ['optimizer-b'])
      ])
    );
    const container = rowOf(view, true, 'optimizer-a');

    const rows = [...container.querySelectorAll('tr[data-job-id]')];
    expect(rows.map(r => r.getAttribute('data-job-id'))).toEqual(['j1']);
    expect(
      container.querySelector('[data-testid="jobs-hidden"]')?.textContent
    ).toBe('2 jobs hidden by the filter');
    expect(
      rowOf(view, true).querySelector('[data-testid="jobs-hidden"]')
    ).toBeNull();
  });
});

describe('CodeSample', () => {
  it('offers line breaks after dots and before parentheses, and copies as typed', () => {
    const code = 'python -m jupyter_session_monitor.emulator serve';
    const { container } = render(<CodeSample code={code} />);

    const pre = container.querySelector('pre')!;
    expect(pre.textContent).toBe(code);
    expect(pre.innerHTML).toContain('jupyter_session_monitor.<wbr>emulator');
  });
});

describe('viewStateFrom', () => {
  it('takes a stored view and refuses anything else', () => {
    const view = { show: 'open', collapsed: ['closed'], expanded: ['abc'] };
    expect(viewStateFrom(view)).toEqual(view);
    expect(viewStateFrom(null)).toBeNull();
    expect(viewStateFrom({ ...view, show: 'some' })).toBeNull();
    expect(viewStateFrom({ ...view, expanded: [1] })).toBeNull();
  });
});
