import { describe, expect, it } from 'vitest';

import { timelineModel } from '../components/TimelinePicture';
import { job, sessionView, withJobs } from './fixtures';

const at = (seconds: number) =>
  new Date(
    Date.parse('2026-01-01T12:00:00.000Z') + seconds * 1000
  ).toISOString();

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
});
