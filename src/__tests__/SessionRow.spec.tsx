import { nullTranslator } from '@jupyterlab/translation';
import { Signal } from '@lumino/signaling';
import * as React from 'react';
import { act } from 'react';
import { describe, expect, it, vi } from 'vitest';

import type { SessionActions } from '../actions';
import { CodeSample, viewStateFrom } from '../components/list';
import { isTimestamp, SessionRow } from '../components/row';
import type { ISessionView } from '../store/sessionStore';
import { Ticker } from '../ticker';
import { job, sessionView, withJobs } from './fixtures';
import { render } from './render';

const trans = nullTranslator.load('jupyter_session_monitor');

function rowElement(
  view: ISessionView,
  expanded = false,
  filter = '',
  openNotebook?: (path: string) => void
): React.ReactElement {
  return (
    <ul>
      <SessionRow
        view={view}
        expanded={expanded}
        onToggle={() => undefined}
        actions={actions}
        busy={false}
        ticker={ticker}
        offset={0}
        trans={trans}
        stale={false}
        showDetails
        showTimeline={false}
        fetchOne={fetchOne}
        filter={filter}
        openNotebook={openNotebook}
      />
    </ul>
  );
}

const actions = {
  busy: () => false,
  busyChanged: new Signal<unknown, void>({}),
  confirmSessionAction: async () => true,
  confirmJobCancel: async () => true
} as unknown as SessionActions;
const ticker = new Ticker();
const fetchOne = async (): Promise<ISessionView> => sessionView();

function rowOf(
  view: ISessionView,
  expanded = false,
  filter = '',
  openNotebook?: (path: string) => void
): HTMLElement {
  return render(rowElement(view, expanded, filter, openNotebook)).container;
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
    // The destructive one says what it ends; "Cancel" alone dismisses a dialog (#26 item 7).
    const danger = rowOf(sessionView()).querySelector(
      '.jp-SessionMonitor-danger'
    );
    expect(danger?.textContent).toBe('Cancel session…');
  });

  it('says at once that the service accepted a Close, and offers it no more', () => {
    // #26 item 1: reads throttled, the row said "Pending" with a Close button for 30 s and more.
    const at = '2026-01-01T06:14:00Z';
    const accepted = rowOf(
      sessionView({
        stale: true,
        pending_action: { action: 'close', state: 'accepted', at }
      })
    );
    const said = accepted.querySelector('[data-testid=pending-action]');
    expect(said?.textContent).toMatch(
      /^Close accepted by the service at .+; not confirmed by a read yet\.$/
    );
    expect(said?.getAttribute('role')).toBe('status');
    const labels = [
      ...accepted.querySelectorAll('.jp-SessionMonitor-actions button')
    ].map(b => b.getAttribute('aria-label'));
    expect(labels).not.toContain('Close session a11199df');

    const unknown = rowOf(
      sessionView({
        pending_action: { action: 'cancel', state: 'unknown', at }
      })
    );
    expect(
      unknown.querySelector('[data-testid=pending-action]')?.textContent
    ).toMatch(
      /got no answer: the session may or may not have ended\. Checking\.$/
    );
    // No answer came: it may be tried again (closing and cancelling are idempotent).
    expect(
      unknown.querySelector('.jp-SessionMonitor-danger')?.textContent
    ).toBe('Cancel session…');
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
      ...container.querySelectorAll('.jp-SessionMonitor-jobCancel')
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
    const block = container.querySelector<HTMLDetailsElement>(
      '.jp-SessionMonitor-detailsBlock'
    )!;
    // Closed: the values are neither shown nor rendered; opened, they are listed.
    expect(block.open).toBe(false);
    expect(container.querySelector('.jp-SessionMonitor-detailList')).toBe(null);
    act(() => {
      block.open = true;
      block.dispatchEvent(new Event('toggle'));
    });

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

describe('SessionRow with a long job list', () => {
  // A 60-job VQE: 1 running, 39 queued, 20 finished (2 of them failed).
  const jobs = Array.from({ length: 60 }, (_, i) => {
    const status =
      i < 18 ? 'DONE' : i < 20 ? 'ERROR' : i === 20 ? 'RUNNING' : 'QUEUED';
    const minute = String(i).padStart(2, '0');
    return {
      ...job(`job-${minute}`, status),
      created: `2026-01-01T12:${minute}:00.000Z`
    };
  });
  const view = sessionView(withJobs(jobs));
  const listed = (container: HTMLElement): string[] =>
    [...container.querySelectorAll('tr[data-job-id]')].map(row =>
      row.getAttribute('data-job-id')!
    );
  const button = (container: HTMLElement, name: string): HTMLButtonElement =>
    [...container.querySelectorAll('button')].find(
      b => b.textContent === name
    )! as HTMLButtonElement;

  it('lists the running job first, then the queue, 20 at a time', () => {
    const container = rowOf(view, true);

    const first = listed(container);
    expect(first).toHaveLength(20);
    expect(first.slice(0, 3)).toEqual(['job-20', 'job-21', 'job-22']);
    const more = container.querySelector('[data-testid="jobs-more"]');
    expect(more?.textContent).toContain('Showing 20 of 60 jobs.');

    act(() => button(container, 'Show 20 more').click());
    expect(listed(container)).toHaveLength(40);
    act(() => button(container, 'Show 20 more').click());
    // Then the finished ones, the most recent first.
    expect(listed(container).slice(-3)).toEqual(['job-02', 'job-01', 'job-00']);
    expect(container.querySelector('[data-testid="jobs-more"]')).toBeNull();

    const again = rowOf(view, true);
    act(() => button(again, 'Show all 60').click());
    expect(listed(again)).toHaveLength(60);
  });

  it('counts jobs per status as toggles that narrow the table', () => {
    const container = rowOf(view, true);
    const chips = [
      ...container.querySelectorAll('[data-testid="job-status-filter"] button')
    ];
    expect(chips.map(c => c.textContent)).toEqual([
      'all 60',
      '39 queued',
      '1 running',
      '18 done',
      '2 failed'
    ]);
    expect(chips[0].getAttribute('aria-pressed')).toBe('true');

    act(() => button(container, '2 failed').click());
    expect(listed(container)).toEqual(['job-19', 'job-18']);
    expect(button(container, '2 failed').getAttribute('aria-pressed')).toBe(
      'true'
    );
    act(() => button(container, '2 failed').click()); // pressed again: every job
    expect(listed(container)).toHaveLength(20);
  });

  it('keeps a pressed status that has no jobs left, so it can be let go', () => {
    const { container, root } = render(rowElement(view, true));
    act(() => button(container, '1 running').click());
    expect(listed(container)).toEqual(['job-20']);

    // The running job finished: the table says so rather than going blank.
    const finished = jobs.map(j =>
      j.status === 'RUNNING' ? { ...j, status: 'DONE' } : j
    );
    act(() => root.render(rowElement(sessionView(withJobs(finished)), true)));
    expect(listed(container)).toEqual([]);
    expect(
      container.querySelector('[data-testid="jobs-none"]')?.textContent
    ).toBe('No job has that status now.');
    const chip = button(container, '0 running');
    expect(chip.getAttribute('aria-pressed')).toBe('true');
    act(() => chip.click());
    expect(listed(container)).toHaveLength(20);
    expect(container.textContent).not.toContain('0 running');
  });

  it("copies a job's full id from its row", async () => {
    const writeText = vi.fn(async () => undefined);
    Object.assign(navigator, { clipboard: { writeText } });
    const container = rowOf(view, true);
    const copy = container.querySelector(
      'tr[data-job-id="job-20"] button[aria-label="Copy job id job-20"]'
    ) as HTMLButtonElement;
    await act(async () => copy.click());
    expect(writeText).toHaveBeenCalledWith('job-20');
    expect(copy.getAttribute('title')).toBe('Copied');
  });
});

describe("SessionRow outside its notebook's group", () => {
  it('says which notebook opened it, as a link that opens it', () => {
    const opened: string[] = [];
    const view = sessionView({ orphaned: true });
    const container = rowOf(view, false, '', path => opened.push(path));

    const from = container.querySelector('[data-testid="session-notebook"]');
    expect(from?.textContent).toBe(
      `opened by ${view.notebook_path!.split('/').pop()}`
    );
    act(() => from!.querySelector('button')!.click());
    expect(opened).toEqual([view.notebook_path]);
    // In the notebook's own group the header names it already.
    expect(
      rowOf(view).querySelector('[data-testid="session-notebook"]')
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
