import { nullTranslator } from '@jupyterlab/translation';
import { describe, expect, it } from 'vitest';

import {
  actionsFor,
  clockTime,
  consequence,
  countJobs,
  countdownsOf,
  endReasonText,
  filterJobs,
  formatDuration,
  groupSessions,
  groupTitle,
  jobCountsText,
  jobReasonText,
  matches,
  orderJobs,
  primaryCountdowns,
  soonestCloseSeconds
} from '../present';
import { T0, job, sessionView, withJobs } from './fixtures';

const trans = nullTranslator.load('jupyter_session_monitor');
const options = {
  filter: '',
  show: 'all' as const,
  recentlyClosedMinutes: 60,
  now: T0
};

describe('groupSessions', () => {
  it('groups open sessions by notebook, then elsewhere, orphaned first, closed last', () => {
    const groups = groupSessions(
      [
        sessionView({ id: 's-vqe', notebook_path: 'b/vqe.ipynb' }),
        sessionView({ id: 's-qaoa', notebook_path: 'a/qaoa.ipynb' }),
        sessionView({ id: 's-by-id', notebook_path: null, source: 'tracked' }),
        sessionView({ id: 's-orphan', orphaned: true }),
        sessionView({
          id: 's-closed',
          state: 'closed',
          status: 'Closed',
          details: { closed_at: '2026-01-01T11:30:00.000Z' }
        })
      ],
      options
    );

    expect(groups.map(g => [g.kind, g.sessions.map(s => s.id)])).toEqual([
      ['orphaned', ['s-orphan']],
      ['notebook', ['s-qaoa']],
      ['notebook', ['s-vqe']],
      ['elsewhere', ['s-by-id']],
      ['closed', ['s-closed']]
    ]);
    expect(groupTitle(groups[1], trans)).toBe('qaoa.ipynb');
    expect(groupTitle(groups[3], trans)).toBe('Tracked by id / elsewhere');
  });

  it('lists sessions the service no longer knows apart, even with "open", with no clock', () => {
    const lost = sessionView({
      id: 's-lost',
      not_found: true,
      deadlines: {
        max_ttl_at: '2026-01-01T12:10:00.000Z',
        interactive_ttl_at: null,
        idle_close_at: null
      }
    });
    const groups = groupSessions([lost, sessionView({ id: 's-open' })], {
      ...options,
      show: 'open'
    });

    expect(groups.map(g => [g.kind, g.sessions.map(s => s.id)])).toEqual([
      ['notebook', ['s-open']],
      ['lost', ['s-lost']]
    ]);
    expect(groupTitle(groups[1], trans)).toBe('Not found at the service');
    expect(countdownsOf(lost, T0, 0, trans)).toEqual([]);
    expect(soonestCloseSeconds(lost, T0, 0)).toBeNull();
  });

  it('keeps closed sessions only for the configured time, and hides them with "open"', () => {
    const old = sessionView({
      id: 'old',
      state: 'closed',
      details: { closed_at: '2026-01-01T10:00:00.000Z' }
    });
    const recent = sessionView({
      id: 'recent',
      state: 'closed',
      details: { closed_at: '2026-01-01T11:59:00.000Z' }
    });

    const all = groupSessions([old, recent], options);
    expect(all.map(g => g.sessions.map(s => s.id))).toEqual([['recent']]);
    expect(groupSessions([old, recent], { ...options, show: 'open' })).toEqual(
      []
    );
  });

  it('filters on id, backend and job tags, case-insensitively', () => {
    const tagged = sessionView({
      id: 'tagged',
      backend: 'ibm_torino',
      ...withJobs([job('j1', 'DONE', ['VQE-iteration-3'])])
    });
    expect(matches(tagged, 'iteration-3')).toBe(true);
    expect(matches(tagged, 'TORINO')).toBe(true);
    expect(matches(tagged, 'tagg')).toBe(true);
    expect(matches(tagged, 'kolkata')).toBe(false);
    expect(groupSessions([tagged], { ...options, filter: 'nothing' })).toEqual(
      []
    );
  });
});

describe('countdownsOf', () => {
  const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

  it('says the max TTL starts with the first job, and the no-job close counts down', () => {
    const view = sessionView({
      state: 'open',
      deadlines: {
        max_ttl_at: null,
        interactive_ttl_at: null,
        idle_close_at: at(1630)
      }
    });
    const countdowns = countdownsOf(view, T0, 0, trans);

    expect(countdowns.map(c => c.text)).toEqual([
      'closes in 27:10 unless a job is submitted',
      'max TTL 8 h 00 min, counted from the first job'
    ]);
    const unknown = sessionView({ state: 'open', details: {} });
    expect(countdownsOf(unknown, T0, 0, trans).map(c => c.text)).toEqual([
      'max TTL starts with the first job'
    ]);
  });

  it('counts the interactive TTL while idle and shows max TTL progress', () => {
    const view = sessionView({
      deadlines: {
        max_ttl_at: at(600),
        interactive_ttl_at: at(42),
        idle_close_at: null
      },
      details: { max_time: 1200 }
    });
    const [first, second] = countdownsOf(view, T0, 0, trans);

    expect(first.text).toBe('deactivates in 0:42');
    expect(second.text).toBe('max TTL left 10:00');
    expect(second.progress).toBeCloseTo(0.5);
  });

  it('corrects for a browser clock that runs ahead of the server', () => {
    const view = sessionView({
      deadlines: {
        max_ttl_at: at(60),
        interactive_ttl_at: null,
        idle_close_at: null
      }
    });
    // The browser is 5 s ahead: at its T0 + 5 s, the server's clock reads T0.
    const [countdown] = countdownsOf(view, T0 + 5000, 5000, trans);

    expect(countdown.seconds).toBe(60);
  });

  it('shows "inactive" next to the soonest clock in a collapsed row', () => {
    const view = sessionView({
      state: 'inactive',
      status: 'Pending',
      deadlines: {
        max_ttl_at: at(39),
        interactive_ttl_at: null,
        idle_close_at: null
      }
    });
    const shown = primaryCountdowns(countdownsOf(view, T0, 0, trans));

    expect(shown.map(c => c.text)).toEqual([
      'max TTL left 0:39',
      'inactive — a job submitted now waits in the queue'
    ]);
  });

  it('shows a statement in a collapsed row when there is no clock', () => {
    const view = sessionView({ state: 'open' });
    expect(
      primaryCountdowns(countdownsOf(view, T0, 0, trans)).map(c => c.text)
    ).toEqual(['max TTL 8 h 00 min, counted from the first job']);
  });

  it('has none for a closed session, and never goes below zero', () => {
    expect(
      countdownsOf(sessionView({ state: 'closed' }), T0, 0, trans)
    ).toEqual([]);
    const passed = sessionView({
      deadlines: {
        max_ttl_at: at(-30),
        interactive_ttl_at: null,
        idle_close_at: null
      }
    });
    expect(countdownsOf(passed, T0, 0, trans)[0].text).toBe(
      'max TTL left 0:00'
    );
    expect(soonestCloseSeconds(passed, T0, 0)).toBe(0);
  });

  it('gives screen readers the moment, not a ticking number', () => {
    const view = sessionView({
      deadlines: {
        max_ttl_at: at(60),
        interactive_ttl_at: null,
        idle_close_at: null
      }
    });
    const [early] = countdownsOf(view, T0, 0, trans);
    const [later] = countdownsOf(view, T0 + 3000, 0, trans);

    expect(early.text).not.toBe(later.text);
    expect(early.label).toBe(later.label);
  });
});

describe('Close and Cancel', () => {
  const busy = sessionView(
    withJobs([
      job('q1', 'QUEUED'),
      job('q2', 'QUEUED'),
      job('q3', 'QUEUED'),
      job('r1', 'RUNNING'),
      job('d1', 'DONE')
    ])
  );

  it('states the consequence with numbers', () => {
    expect(consequence(busy, 'close', trans)).toBe(
      'Close: no new jobs; 3 queued jobs will still run; 1 running job finishes. The session ends when they are done and is billed until then.'
    );
    expect(consequence(busy, 'cancel', trans)).toBe(
      'Cancel: 3 queued jobs will be cancelled; 1 running job finishes. The session ends now.'
    );
    expect(consequence(sessionView(), 'close', trans)).toBe(
      'Close: no new jobs; nothing is queued or running, so the session ends now.'
    );
  });

  it('never promises to cancel zero jobs', () => {
    expect(consequence(sessionView(), 'cancel', trans)).toBe(
      'Cancel: nothing is queued or running, so no job is cancelled; the session ends now.'
    );
    const running = sessionView(withJobs([job('r1', 'RUNNING')]));
    expect(consequence(running, 'cancel', trans)).toBe(
      'Cancel: 1 running job finishes. The session ends now.'
    );
  });

  it('says what a cancel or max TTL end did, counting the jobs', () => {
    const ended = (changes: Partial<ISessionView>) =>
      endReasonText(sessionView({ state: 'closed', ...changes }), trans);
    expect(ended({ end_reason: 'cancelled' })).toBe(
      'Cancelled: it ended at once; no job was queued.'
    );
    expect(
      ended({
        end_reason: 'cancelled',
        ...withJobs([job('c1', 'CANCELLED'), job('c2', 'CANCELLED')])
      })
    ).toBe('Cancelled: it ended at once; 2 jobs were cancelled.');
    expect(ended({ end_reason: 'max_ttl' })).toBe(
      'Ended at its maximum time (max TTL); no job was left waiting.'
    );
    expect(
      ended({ end_reason: 'max_ttl', ...withJobs([job('e1', 'ERROR')]) })
    ).toBe(
      'Ended at its maximum time (max TTL); 1 job failed (jobs still queued then fail).'
    );
  });

  it('offers only the actions that apply', () => {
    expect(actionsFor(busy)).toEqual(['close', 'cancel']);
    expect(actionsFor(sessionView({ accepting_jobs: false }))).toEqual([
      'cancel'
    ]);
    expect(actionsFor(sessionView({ state: 'closed' }))).toEqual([]);
    expect(actionsFor(sessionView({ not_found: true }))).toEqual([]);
  });
});

describe('words', () => {
  it('counts jobs by status, leaving out statuses with none', () => {
    expect(jobCountsText(sessionView(), trans)).toBe('no jobs yet');
    const view = sessionView(
      withJobs([
        job('a', 'QUEUED'),
        job('b', 'DONE'),
        job('c', 'DONE'),
        job('d', 'ERROR')
      ])
    );
    expect(jobCountsText(view, trans)).toBe('1 queued · 2 done · 1 failed');
  });

  it("gives a failed job's reason in the service's words", () => {
    const failed = {
      ...job('e1', 'ERROR'),
      reason: { code: 1517, message: 'The circuit acts on 22 qubits' }
    };
    expect(jobReasonText(failed)).toBe('1517: The circuit acts on 22 qubits');
    expect(
      jobReasonText({ ...failed, reason: { code: null, message: 'x' } })
    ).toBe('x');
    expect(jobReasonText(job('d1', 'DONE'))).toBeNull();
  });

  it('formats durations for people', () => {
    expect(formatDuration(2.5, trans)).toBe('2.5 s');
    expect(formatDuration(42, trans)).toBe('42 s');
    expect(formatDuration(723, trans)).toBe('12 min 03 s');
    expect(formatDuration(7500, trans)).toBe('2 h 05 min');
    expect(formatDuration(null, trans)).toBe('—');
  });
});

describe('clockTime', () => {
  it('writes a time in the page language, with the date when it is not today', () => {
    const at = '2026-01-01T12:00:00.000Z';
    document.documentElement.lang = 'de-DE';
    try {
      const sameDay = clockTime(at, Date.parse(at) + 60_000);
      expect(sameDay).toBe(new Date(at).toLocaleTimeString('de-DE'));
      const later = clockTime(at, Date.parse(at) + 3 * 24 * 3600_000);
      expect(later).toBe(
        `${new Date(at).toLocaleDateString('de-DE')} ${new Date(at).toLocaleTimeString('de-DE')}`
      );
    } finally {
      document.documentElement.lang = '';
    }
  });

  it('writes a moment again for another language or another day (the written times are kept)', () => {
    const at = '2026-01-01T12:00:00.000Z';
    const sameDay = Date.parse(at) + 60_000;
    const nextWeek = Date.parse(at) + 7 * 24 * 3600_000;
    try {
      document.documentElement.lang = 'en-US';
      expect(clockTime(at, sameDay)).toBe(
        new Date(at).toLocaleTimeString('en-US')
      );
      document.documentElement.lang = 'de-DE';
      expect(clockTime(at, sameDay)).toBe(
        new Date(at).toLocaleTimeString('de-DE')
      );
      expect(clockTime(at, nextWeek)).toContain(
        new Date(at).toLocaleDateString('de-DE')
      );
      expect(clockTime(at, sameDay)).toBe(
        new Date(at).toLocaleTimeString('de-DE')
      );
    } finally {
      document.documentElement.lang = '';
    }
  });

  it('puts a moment on today from local midnight on, and the one before on yesterday', () => {
    const noon = new Date(2026, 2, 29, 12); // a daylight-saving change in Europe
    const midnight = new Date(2026, 2, 29).getTime();
    const before = new Date(midnight - 1000).toISOString();
    const at = new Date(midnight).toISOString();
    expect(clockTime(at, noon.getTime())).toBe(
      new Date(midnight).toLocaleTimeString()
    );
    expect(clockTime(before, noon.getTime())).toBe(
      `${new Date(midnight - 1000).toLocaleDateString()} ${new Date(midnight - 1000).toLocaleTimeString()}`
    );
  });
});

describe('filterJobs', () => {
  const view = sessionView(
    withJobs([
      job('j1', 'DONE', ['optimizer-a']),
      job('j2', 'DONE', ['optimizer-b']),
      job('j3', 'QUEUED', ['optimizer-a', 'vqe'])
    ])
  );

  it('lists the jobs whose tags match when only jobs match the filter', () => {
    const { jobs, hidden } = filterJobs(view, ' Optimizer-A ');
    expect(jobs.map(j => j.id)).toEqual(['j1', 'j3']);
    expect(hidden).toBe(1);
  });

  it('lists every job with no filter or when the session matches by itself', () => {
    expect(filterJobs(view, '').hidden).toBe(0);
    expect(filterJobs(view, 'torino').jobs).toHaveLength(3);
    expect(filterJobs(view, 'vqe.ipynb').jobs).toHaveLength(3);
  });
});

describe('orderJobs', () => {
  const at = (
    id: string,
    status: string,
    created: string,
    finished?: string
  ) => ({
    ...job(id, status),
    created: `2026-01-01T12:${created}:00.000Z`,
    finished: finished ? `2026-01-01T12:${finished}:00.000Z` : null
  });

  it('puts running first, then queued in queue order, then the latest finished', () => {
    const jobs = [
      at('done-early', 'DONE', '00', '02'),
      at('failed-late', 'ERROR', '01', '05'),
      at('queued-first', 'QUEUED', '03'),
      at('running', 'RUNNING', '02'),
      at('queued-last', 'QUEUED', '04'),
      at('cancelled-unstarted', 'CANCELLED', '05')
    ];
    expect(orderJobs(jobs).map(j => j.id)).toEqual([
      'running',
      'queued-first',
      'queued-last',
      'cancelled-unstarted',
      'failed-late',
      'done-early'
    ]);
    expect(jobs[0].id).toBe('done-early'); // the view's own list is left as it is
  });

  it("counts jobs per status in the sidebar's order, leaving out none-counts", () => {
    const jobs = [job('a', 'DONE'), job('b', 'QUEUED'), job('c', 'DONE')];
    expect(countJobs(jobs)).toEqual([
      { status: 'QUEUED', count: 1 },
      { status: 'DONE', count: 2 }
    ]);
  });
});
