import { nullTranslator } from '@jupyterlab/translation';
import type { Signal } from '@lumino/signaling';
import * as React from 'react';
import { act } from 'react';
import type { Root } from 'react-dom/client';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { REFETCH_MAX_MS, REFETCH_MS, useTimeline } from '../components/row';
import {
  queueSteps,
  TimelinePicture,
  timelineModel
} from '../components/timeline';
import type { ISessionView } from '../store/sessionStore';
import { Ticker } from '../ticker';
import { job, sessionView, withJobs } from './fixtures';
import { render } from './render';

const trans = nullTranslator.load('jupyter_session_monitor');
const start = Date.parse('2026-01-01T12:00:00.000Z');
const at = (seconds: number) => new Date(start + seconds * 1000).toISOString();

/** Job a, created at 5 s, ran from 10 s to 20 s. */
const RAN = {
  ...job('a', 'DONE'),
  created: at(5),
  started: at(10),
  finished: at(20)
};

/** Open since 0, active since 10; job a ran 10-20, job q queued since 30. */
function openSession(changes: Partial<ISessionView> = {}): ISessionView {
  return sessionView({
    created_at: at(0),
    details: {
      timestamps: [
        { status: 'open', timestamp: at(0) },
        { status: 'active', timestamp: at(10) }
      ]
    },
    ...withJobs([RAN, { ...job('q', 'QUEUED'), created: at(30) }]),
    ...changes
  });
}

const CLOSED_AT_40 = [
  { status: 'open', timestamp: at(0) },
  { status: 'closed', timestamp: at(40) }
];

/** Opened at 0, closed at 40 (by its timestamps); job a ran 10-20. */
function closedAt40(changes: Partial<ISessionView>): ISessionView {
  return openSession({
    details: { timestamps: CLOSED_AT_40 },
    ...withJobs([RAN]),
    ...changes
  });
}

/** What a test drew, unmounted and stopped after it. */
const drawn: { root: Root; ticker: Ticker }[] = [];

/**
 * The picture of `view` drawn with the page's clock at `seconds` after the start, `offset` ms
 * ahead of the server's.
 */
function drawnAt(
  seconds: number,
  view: ISessionView,
  offset = 0,
  compact = false
): { ticker: Ticker; container: HTMLElement } {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(start + seconds * 1000);
  const ticker = new Ticker();
  const { container, root } = render(
    <TimelinePicture
      view={view}
      ticker={ticker}
      offset={offset}
      trans={trans}
      compact={compact}
    />
  );
  drawn.push({ root, ticker });
  return { ticker, container };
}

function listeners(ticker: Ticker): number {
  return (ticker as unknown as { _listeners: number })._listeners;
}

function tick(ticker: Ticker, seconds: number): void {
  act(() =>
    (ticker.ticked as Signal<Ticker, number>).emit(start + seconds * 1000)
  );
}

function picture(container: HTMLElement) {
  const svg = container.querySelector('[data-testid=timeline-picture]')!;
  const clip = svg.querySelector('clipPath rect')!;
  const queued = svg.querySelector('g[data-job-id=q] rect')!;
  const scaled = svg.querySelector('g[transform]')!;
  return {
    svg,
    /** Where the picture stops drawing, seconds since the start. */
    clipEnd: () => Number(clip.getAttribute('width')),
    queued,
    queuedEnd: () =>
      Number(queued.getAttribute('x')) + Number(queued.getAttribute('width')),
    /** Seconds across the whole axis. */
    axisSeconds: () =>
      600 /
      Number(/scale\(([\d.e+-]+)/.exec(scaled.getAttribute('transform')!)![1]),
    rightLabel: () =>
      container.querySelector('.jp-SessionMonitor-axis span:last-child')!
        .textContent
  };
}

describe('TimelinePicture', () => {
  afterEach(() => {
    for (const { root, ticker } of drawn.splice(0)) {
      act(() => root.unmount());
      ticker.dispose();
    }
    vi.useRealTimers();
  });

  it('moves its right edge with the clock without drawing its bars again', () => {
    const { ticker, container } = drawnAt(60, openSession());
    const shown = picture(container);
    expect(shown.clipEnd()).toBeCloseTo(60);
    expect(shown.axisSeconds()).toBeCloseTo(60);
    // The queued job goes on past now; what is past now is clipped.
    expect(shown.queuedEnd()).toBeGreaterThan(60);
    const label = shown.rightLabel();
    const bar = [
      shown.queued.getAttribute('x'),
      shown.queued.getAttribute('width')
    ];

    tick(ticker, 75);

    expect(shown.clipEnd()).toBeCloseTo(75);
    expect(shown.axisSeconds()).toBeCloseTo(75);
    expect(shown.rightLabel()).not.toBe(label);
    // The bars are not drawn again: the tick moved the clip and the scale only.
    expect([
      shown.queued.getAttribute('x'),
      shown.queued.getAttribute('width')
    ]).toEqual(bar);
    expect(shown.queuedEnd()).toBeGreaterThan(75);
    // What is still going on says since when, not until a moment that has passed.
    const titles = [...shown.svg.querySelectorAll('title')].map(
      t => t.textContent
    );
    expect(titles).toContain(
      `active since ${new Date(start + 10_000).toLocaleTimeString()}`
    );
    expect(titles.find(t => t?.startsWith('Job q'))).toMatch(
      /not started yet, QUEUED$/
    );
    expect(titles.find(t => t?.startsWith('Billed while idle'))).toMatch(
      /^Billed while idle since/
    );
  });

  it('draws again once the clock passes what it drew, so a queued job still reaches now', () => {
    const { ticker, container } = drawnAt(60, openSession());

    tick(ticker, 3600);

    const shown = picture(container);
    expect(shown.clipEnd()).toBeCloseTo(3600);
    expect(shown.queuedEnd()).toBeGreaterThanOrEqual(3600);
  });

  it('draws a state change stamped a moment ahead of the page clock, once the clock gets there', () => {
    const view = openSession({
      details: {
        timestamps: [
          { status: 'open', timestamp: at(0) },
          { status: 'active', timestamp: at(10) },
          { status: 'inactive', timestamp: at(62) }
        ]
      }
    });
    const { ticker, container } = drawnAt(60, view);

    tick(ticker, 65);

    const band = container.querySelector(
      '.jp-SessionMonitor-band.jp-mod-inactive'
    );
    expect(band).not.toBeNull();
    expect(Number(band!.getAttribute('x'))).toBeCloseTo(62);
    expect(picture(container).clipEnd()).toBeCloseTo(65);
  });

  it('does not listen to the clock for a closed session', () => {
    const closed = closedAt40({
      details: { closed_at: at(40), timestamps: CLOSED_AT_40 }
    });
    const { ticker, container } = drawnAt(90, closed);
    expect(picture(container).axisSeconds()).toBeCloseTo(40);
    expect(listeners(ticker)).toBe(0);
  });

  it('ends a session the service lists as closed without closed_at at its closed state change', () => {
    const closed = closedAt40({ state: 'closed', status: 'Closed' });
    const { ticker, container } = drawnAt(90, closed);
    expect(picture(container).axisSeconds()).toBeCloseTo(40);
    expect(listeners(ticker)).toBe(0);
    expect(
      container
        .querySelector('[data-testid=timeline-picture]')
        ?.getAttribute('aria-label')
    ).toMatch(/from .* to /);
  });

  it('stops at the last read for a session the service no longer knows', () => {
    const lost = openSession({ not_found: true, last_polled_at: at(50) });
    const { ticker, container } = drawnAt(90, lost);
    expect(picture(container).axisSeconds()).toBeCloseTo(50);
    expect(listeners(ticker)).toBe(0);
  });

  it("puts now on the server's clock: the page's minus the offset", () => {
    const { ticker, container } = drawnAt(65, openSession(), 5_000);
    expect(picture(container).clipEnd()).toBeCloseTo(60);
    tick(ticker, 85);
    expect(picture(container).clipEnd()).toBeCloseTo(80);
  });

  it('keeps a short failed job visible as the axis grows', () => {
    const failed = {
      ...job('f', 'ERROR'),
      created: at(1),
      started: at(1),
      finished: at(1.05)
    };
    const view = openSession(withJobs([failed]));
    const { ticker, container } = drawnAt(10, view);

    tick(ticker, 39);

    const mark = container.querySelector('.jp-SessionMonitor-jobFailedMark')!;
    // At least the 3 units (of 600 across) the mark is drawn with.
    const units =
      (Number(mark.getAttribute('width')) * 600) /
      picture(container).axisSeconds();
    expect(units).toBeGreaterThanOrEqual(2.9);
  });
});

/** 150 jobs submitted at 1 s: 10 ran one after another from 2 s, one runs, 139 wait. */
function batchOf150(): ISessionView {
  const jobs = Array.from({ length: 150 }, (_, index) => {
    const id = `j${index}`;
    if (index < 10) {
      return {
        ...job(id, 'DONE'),
        created: at(1),
        started: at(2 + 2 * index),
        finished: at(4 + 2 * index)
      };
    }
    if (index === 10) {
      return { ...job(id, 'RUNNING'), created: at(1), started: at(22) };
    }
    return { ...job(id, 'QUEUED'), created: at(1) };
  });
  return openSession(withJobs(jobs));
}

describe('the compact picture of many jobs (#26 item 10)', () => {
  afterEach(() => {
    for (const { root, ticker } of drawn.splice(0)) {
      act(() => root.unmount());
      ticker.dispose();
    }
    vi.useRealTimers();
  });

  it('draws the queue as one band and the runs in one row, not a tall triangle of bars', () => {
    const { container } = drawnAt(30, batchOf150(), 0, true);
    const svg = container.querySelector('[data-testid=timeline-picture]')!;
    expect(svg.getAttribute('data-jobs')).toBe('150');
    // Was 12 + 150 rows of 1.5 px: 239 px high in a notebook's output.
    expect(parseFloat((svg as SVGElement).style.height)).toBeLessThanOrEqual(
      40
    );
    const band = svg.querySelector('[data-testid=queued-band]')!;
    expect(band.querySelector('title')?.textContent).toBe(
      'Queued: at most 150 jobs waiting at once'
    );
    // Each job that ran is still a bar with its own title; waiting ones are in the band.
    expect(svg.querySelectorAll('g[data-job-id]')).toHaveLength(11);
    expect(
      svg.querySelectorAll('.jp-SessionMonitor-jobRun.jp-mod-done')
    ).toHaveLength(10);
  });

  it('keeps one bar per job for a few jobs, and in the sidebar', () => {
    const few = drawnAt(60, openSession(), 0, true).container;
    expect(few.querySelectorAll('g[data-job-id]')).toHaveLength(2);
    expect(few.querySelector('[data-testid=queued-band]')).toBeNull();
    const wide = drawnAt(30, batchOf150()).container;
    expect(wide.querySelectorAll('g[data-job-id]')).toHaveLength(150);
  });

  it('counts the jobs waiting at each moment', () => {
    const model = timelineModel(batchOf150(), [], start + 30_000)!;
    const steps = queueSteps(model.jobs);
    expect(steps[0]).toEqual({
      from: start + 1000,
      to: start + 2000,
      waiting: 150
    });
    expect(steps[1]).toEqual({
      from: start + 2000,
      to: start + 4000,
      waiting: 149
    });
    expect(steps.at(-1)?.waiting).toBe(139);
  });
});

describe('useTimeline', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fetches at once, then once for a burst of changes', async () => {
    vi.useFakeTimers();
    const fetched: string[] = [];
    const fetchOne = async (id: string) => {
      fetched.push(id);
      return openSession();
    };
    function Probe(props: { view: ISessionView }): JSX.Element {
      const { full } = useTimeline(props.view, fetchOne);
      return <p data-loaded={full !== null} />;
    }
    const first = openSession();
    const { container, root } = render(<Probe view={first} />);
    await act(async () => vi.advanceTimersByTime(0));
    expect(fetched).toHaveLength(1);
    expect(container.querySelector('p')?.dataset.loaded).toBe('true');

    // A poll finds three jobs' states changed: three pushed changes within a few ms.
    for (const status of ['RUNNING', 'DONE', 'ERROR']) {
      act(() =>
        root.render(<Probe view={openSession(withJobs([job('q', status)]))} />)
      );
    }
    await act(async () => vi.advanceTimersByTime(REFETCH_MS - 1));
    expect(fetched).toHaveLength(1);
    await act(async () => vi.advanceTimersByTime(1));
    expect(fetched).toHaveLength(2);

    // Changes that keep coming faster than REFETCH_MS: the timeline still follows within
    // REFETCH_MAX_MS of the first one.
    const statuses = ['RUNNING', 'DONE', 'ERROR', 'CANCELLED', 'QUEUED'];
    for (let ms = 0; ms < REFETCH_MAX_MS; ms += 100) {
      const status = statuses[(ms / 100) % statuses.length];
      act(() =>
        root.render(
          <Probe
            view={openSession(
              withJobs([job('q', status), job(`j${ms}`, 'DONE')])
            )}
          />
        )
      );
      await act(async () => vi.advanceTimersByTime(100));
    }
    expect(fetched).toHaveLength(3);
    root.unmount();
  });
});

describe('timelineModel', () => {
  it('draws the state bands, each job, and the billed idle gaps between jobs', () => {
    const view = sessionView({
      created_at: at(0),
      details: {
        timestamps: [
          { status: 'open', timestamp: at(0) },
          { status: 'active', timestamp: at(10) },
          { status: 'inactive', timestamp: at(100) }
        ]
      },
      ...withJobs([
        {
          ...job('a', 'DONE'),
          created: at(5),
          started: at(10),
          finished: at(20)
        },
        {
          ...job('b', 'ERROR'),
          created: at(6),
          started: at(40),
          finished: at(45)
        }
      ]),
      deadlines: {
        max_ttl_at: at(130),
        interactive_ttl_at: null,
        idle_close_at: null
      }
    });

    const model = timelineModel(view, [], Date.parse(at(120)))!;

    expect(model.bands.map(b => b.state)).toEqual([
      'open',
      'active',
      'inactive'
    ]);
    expect(model.jobs.map(j => [j.job.id, j.outcome])).toEqual([
      ['a', 'done'],
      ['b', 'error']
    ]);
    // Active from 10 to 100 with jobs running 10-20 and 40-45: idle 20-40 and 45-100.
    expect(
      model.idle.map(g => [
        (g.from - model.start) / 1000,
        (g.to - model.start) / 1000
      ])
    ).toEqual([
      [20, 40],
      [45, 100]
    ]);
    expect(model.markers).toEqual([
      { at: Date.parse(at(130)), kind: 'max_ttl' }
    ]);
  });

  it('draws a job cancelled while queued as queued only, and a queued job up to now', () => {
    const view = sessionView({
      created_at: at(0),
      ...withJobs([
        {
          ...job('c', 'CANCELLED'),
          created: at(1),
          started: null,
          finished: at(3)
        },
        { ...job('q', 'QUEUED'), created: at(2) }
      ])
    });

    const model = timelineModel(view, [], Date.parse(at(9)))!;

    expect(model.jobs.map(j => [j.job.id, j.started, j.finished])).toEqual([
      ['c', null, Date.parse(at(3))],
      ['q', null, Date.parse(at(9))]
    ]);
  });
  it("puts the service's own timestamps on the server's clock, as now and the deadlines are", () => {
    // The service's clock 600 s ahead: its stamps are 600 s later than the same moments here.
    const view = sessionView({
      created_at: at(600),
      service_clock_offset_seconds: 600,
      details: {
        timestamps: [
          { status: 'open', timestamp: at(600) },
          { status: 'active', timestamp: at(610) }
        ],
        last_job_started: at(615)
      },
      ...withJobs([
        {
          ...job('a', 'DONE'),
          created: at(605),
          started: at(610),
          finished: at(612)
        },
        { ...job('r', 'RUNNING'), created: at(606) }
      ]),
      deadlines: {
        max_ttl_at: at(130),
        interactive_ttl_at: null,
        idle_close_at: null
      }
    });

    const model = timelineModel(view, [], Date.parse(at(20)))!;

    expect(model.start).toBe(Date.parse(at(0)));
    expect(model.bands.map(b => [b.state, b.from, b.to])).toEqual([
      ['open', Date.parse(at(0)), Date.parse(at(10))],
      ['active', Date.parse(at(10)), Date.parse(at(20))]
    ]);
    expect(
      model.jobs.map(j => [j.job.id, j.created, j.started, j.finished])
    ).toEqual([
      ['a', Date.parse(at(5)), Date.parse(at(10)), Date.parse(at(12))],
      ['r', Date.parse(at(6)), Date.parse(at(15)), Date.parse(at(20))]
    ]);
  });
});
