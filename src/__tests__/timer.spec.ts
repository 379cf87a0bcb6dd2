import { describe, expect, it } from 'vitest';

import {
  clockOffset,
  formatCountdown,
  parseTime,
  secondsLeft,
  serviceClock
} from '../timer';

describe('parseTime', () => {
  it('reads a time without an offset as UTC, as the server does, whatever the browser zone', () => {
    expect(parseTime('2026-01-01T12:00:00')).toBe(
      Date.UTC(2026, 0, 1, 12, 0, 0)
    );
    expect(parseTime('2026-01-01T12:00:00.250')).toBe(
      Date.UTC(2026, 0, 1, 12, 0, 0, 250)
    );
    expect(parseTime('2026-01-01T12:00:00Z')).toBe(
      Date.UTC(2026, 0, 1, 12, 0, 0)
    );
    expect(parseTime('2026-01-01T13:00:00+01:00')).toBe(
      Date.UTC(2026, 0, 1, 12, 0, 0)
    );
    expect(parseTime('soon')).toBeNull();
    expect(parseTime(null)).toBeNull();
  });

  it('counts down to a deadline written without an offset', () => {
    const server = Date.UTC(2026, 0, 1, 12, 0, 0);
    expect(secondsLeft('2026-01-01T12:00:42', server, 0)).toBe(42);
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
    // The server wrote its time while the request was out: the midpoint of the round trip.
    expect(
      clockOffset('2026-01-01T12:00:00.000Z', server - 400, server + 600)
    ).toBe(100);

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

describe('serviceClock', () => {
  it("puts the service's timestamps on the server's clock", () => {
    const stamp = '2026-01-01T12:10:00Z';
    const base = Date.parse(stamp);
    expect(serviceClock({ service_clock_offset_seconds: 600 })(stamp)).toBe(
      base - 600_000
    );
    expect(serviceClock({ service_clock_offset_seconds: -60 })(stamp)).toBe(
      base + 60_000
    );
    expect(serviceClock({})(stamp)).toBe(base);
    expect(serviceClock({ service_clock_offset_seconds: 5 })(null)).toBeNull();
  });
});
