import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

import {
  clockOffset,
  deadlinesOf,
  formatCountdown,
  secondsLeft
} from '../timer';

interface ICase {
  name: string;
  body: Record<string, unknown>;
  pending_jobs: number;
  any_job: boolean;
  no_job_close_seconds: number;
  expected: Record<string, string | null>;
}

// The same table the server's derive.deadlines is tested against.
const table = JSON.parse(
  readFileSync(resolve(__dirname, '../../tests/cases/deadlines.json'), 'utf-8')
) as { cases: ICase[] };

describe('deadlinesOf (shared table with the server)', () => {
  it.each(table.cases.map(c => [c.name, c] as const))('%s', (_, testCase) => {
    const result = deadlinesOf(testCase.body, {
      pendingJobs: testCase.pending_jobs,
      anyJob: testCase.any_job,
      noJobCloseSeconds: testCase.no_job_close_seconds
    });

    expect(result).toEqual(testCase.expected);
  });

  it('reads the whole table', () => {
    expect(table.cases.length).toBeGreaterThanOrEqual(8);
  });
});

describe('countdowns on the server clock', () => {
  const deadline = '2026-01-01T12:00:42.000Z';
  const server = Date.parse('2026-01-01T12:00:00.000Z');

  it('counts down from server timestamps with no offset', () => {
    expect(secondsLeft(deadline, server, 0)).toBe(42);
    expect(secondsLeft(deadline, server + 2_000, 0)).toBe(40);
  });

  it('corrects a browser clock that runs ahead or behind', () => {
    const ahead = clockOffset('2026-01-01T12:00:00.000Z', server + 90_000);
    const behind = clockOffset('2026-01-01T12:00:00.000Z', server - 30_000);

    expect(ahead).toBe(90_000);
    expect(secondsLeft(deadline, server + 90_000, ahead)).toBe(42);
    expect(secondsLeft(deadline, server - 30_000, behind)).toBe(42);
  });

  it('stops at zero once the deadline passed and has nothing to show without one', () => {
    expect(secondsLeft(deadline, server + 60_000, 0)).toBe(0);
    expect(secondsLeft(null, server, 0)).toBeNull();
  });

  it('rounds a part second up, so 0:00 shows only when the time is up', () => {
    expect(secondsLeft(deadline, server + 41_500, 0)).toBe(1);
  });
});

describe('formatCountdown', () => {
  it.each([
    [0, '0:00'],
    [42, '0:42'],
    [1630, '27:10'],
    [3723, '1:02:03'],
    [28800, '8:00:00'],
    [-5, '0:00']
  ])('%i s -> %s', (seconds, text) => {
    expect(formatCountdown(seconds)).toBe(text);
  });
});
