import { nullTranslator } from '@jupyterlab/translation';
import { describe, expect, it } from 'vitest';

import {
  budgetText,
  currencyDigits,
  fitText,
  formatMoney,
  formatRate,
  instanceRiskText,
  instanceSummary,
  meterAt,
  meterOfTotal,
  setMoneyLanguage,
  totalOf,
  worstCaseText
} from '../money';
import type { IBudgetView } from '../store/sessionStore';
import cases from '../../tests/cases/money.json';
import { clockTime } from '../present';
import { billing, instanceReading, sessionView } from './fixtures';

const trans = nullTranslator.load('jupyter_session_monitor');
const POLLED = Date.parse('2026-01-01T12:00:00.000Z');

function budget(changes: Partial<IBudgetView> = {}): IBudgetView {
  return {
    scope: 'session',
    target: 'a11199df80a94d84840b',
    seconds: 600,
    amount: null,
    action: 'close',
    threshold: 0.8,
    set_at: '2026-01-01T11:00:00.000Z',
    warned: false,
    warned_at: null,
    reached: false,
    reached_at: null,
    outcome: null,
    spent_seconds: 100,
    spent_amount: null,
    limit_seconds: 600,
    used: 0.1667,
    currency: null,
    problem: null,
    ...changes
  };
}

describe('meterAt', () => {
  it('adds the seconds since the read while the service bills, idle too when nothing runs', () => {
    const view = sessionView({ billing: billing() });
    expect(meterAt(view, POLLED + 10_000)).toEqual({
      billed: 110,
      idle: 50,
      cost: null
    });
  });

  it('never goes past the moment the service stops billing by itself', () => {
    const view = sessionView({ billing: billing() });
    // accrues_until is 30 s after the read: an hour later it is still 30 s more, not 3600.
    expect(meterAt(view, POLLED + 3_600_000)?.billed).toBe(130);
  });

  it('adds nothing to idle while a job runs, and nothing at all when not billed', () => {
    const running = sessionView({ billing: billing({ idle_accruing: false }) });
    expect(meterAt(running, POLLED + 10_000)).toMatchObject({
      billed: 110,
      idle: 40
    });
    const inactive = sessionView({ billing: billing({ accruing: false }) });
    expect(meterAt(inactive, POLLED + 10_000)?.billed).toBe(100);
  });

  it('prices the live figure at the rate', () => {
    const view = sessionView({
      billing: billing({ rate_per_second: 0.5, currency: 'USD' })
    });
    expect(meterAt(view, POLLED + 10_000)?.cost).toBe(55);
  });

  it('totals several sessions live', () => {
    const views = [
      sessionView({ id: 'a', billing: billing() }),
      sessionView({ id: 'b', billing: billing({ accruing: false }) })
    ];
    expect(meterOfTotal(totalOf(views), POLLED + 10_000)?.billed).toBe(210);
  });

  it('reads a total once: the settled sessions summed, the billed ones metered at each moment', () => {
    const views = [
      sessionView({ id: 'a', billing: billing({ rate_per_second: 0.5 }) }),
      sessionView({
        id: 'b',
        billing: billing({
          accruing: false,
          rate_per_second: 0.5,
          currency: 'USD'
        })
      }),
      sessionView({ id: 'c', billing: null }),
      sessionView({ id: 'd', billing: billing({ accruing: false }) })
    ];
    const total = totalOf(views);
    expect(total.accruing.map(view => view.id)).toEqual(['a']);
    expect(total.settled).toEqual({ billed: 200, idle: 80, cost: 50 });
    expect(total.currency).toBe('USD');
    expect(meterOfTotal(total, POLLED + 10_000)).toEqual({
      billed: 310,
      idle: 130,
      cost: 105
    });
    // Past accrues_until (12:00:30), the billed session stops growing.
    expect(meterOfTotal(total, POLLED + 60_000)?.billed).toBe(330);
    expect(totalOf([views[2]])).toEqual({
      settled: null,
      accruing: [],
      currency: null
    });
    expect(meterOfTotal(totalOf([views[2]]), POLLED)).toBeNull();
  });
});

describe('worstCaseText', () => {
  it('states the worst case for an open session and nothing once closed', () => {
    const view = sessionView({
      billing: billing({ max_cost: 1850, currency: 'USD' })
    });
    const meter = meterAt(view, POLLED)!;
    expect(worstCaseText(view, meter, trans)).toBe(
      'up to 1 h 01 min (1,850.00 USD) if left open until its max TTL'
    );
    const closed = sessionView({ state: 'closed', billing: billing() });
    expect(worstCaseText(closed, meter, trans)).toBeNull();
  });

  it('says a closing session ends when its queue has run, not at its max TTL', () => {
    const closing = sessionView({
      accepting_jobs: false,
      billing: billing({
        max_cost: 1850,
        currency: 'USD',
        max_billed_until: 'drain'
      })
    });
    const meter = meterAt(closing, POLLED)!;
    expect(worstCaseText(closing, meter, trans)).toBe(
      'up to 1 h 01 min (1,850.00 USD): it accepts no more jobs and ends when its queue has run'
    );
  });
});

describe('fitText', () => {
  const fit = {
    queued: 40,
    expected_to_fail: 14,
    drain_seconds: 900,
    basis: 'service_estimate' as const,
    max_ttl_at: '2026-01-01T12:10:00.000Z',
    first_failing_job: 'j27',
    lower_bound: false
  };

  it('says how many queued jobs will fail at the max TTL', () => {
    const text = fitText(sessionView({ fit }), trans);
    expect(text).toMatch(
      /^≈ 14 of 40 queued jobs will not start before the max TTL \(.+\) and will fail\. \(from the service’s run-time estimates, in quantum seconds: jobs hold the session longer, so more may fail\)$/
    );
  });

  it('says nothing without a basis, or when all fit', () => {
    expect(
      fitText(
        sessionView({
          fit: {
            ...fit,
            basis: null,
            expected_to_fail: null,
            drain_seconds: null
          }
        }),
        trans
      )
    ).toBeNull();
    expect(
      fitText(sessionView({ fit: { ...fit, expected_to_fail: 0 } }), trans)
    ).toBeNull();
  });

  it('says "at least" while the session waits in the shared queue', () => {
    const text = fitText(
      sessionView({ fit: { ...fit, lower_bound: true, basis: 'observed' } }),
      trans
    );
    expect(text).toMatch(
      /^At least 14 of 40 .* \(from the quantum seconds of this session’s finished jobs: jobs hold the session longer, so more may fail\)$/
    );
  });
});

describe('budgetText', () => {
  it('shows what was used of the budget, live for the session', () => {
    expect(budgetText(budget(), 480, trans)).toBe(
      'Budget 10 min 00 s, then close: 8 min 00 s used (80 %)'
    );
  });

  it('says what the server did when it was used up', () => {
    expect(
      budgetText(
        budget({ reached: true, outcome: 'closed a11199df80a94d84840b' }),
        610,
        trans
      )
    ).toBe(
      'Budget 10 min 00 s, then close: 10 min 10 s used (102 %) — used up: closed a11199df80a94d84840b; queued jobs still run'
    );
    // Reached, the server acting: what it is doing, not only "used up" (#26 item 7).
    expect(
      budgetText(budget({ reached: true, outcome: null }), 610, trans)
    ).toMatch(/— used up: closing it$/);
    expect(
      budgetText(
        budget({ reached: true, outcome: null, action: 'notify' }),
        610,
        trans
      )
    ).toMatch(/— used up$/);
  });

  it('counts a notebook budget over its sessions, in money when it is in money', () => {
    const text = budgetText(
      budget({
        scope: 'notebook',
        target: 'vqe.ipynb',
        seconds: null,
        amount: 50,
        limit_seconds: 100,
        spent_seconds: 40,
        currency: 'EUR'
      }),
      999,
      trans
    );
    expect(text).toBe(
      'Notebook budget 50.00 EUR, then close: 20.00 EUR used (40 %)'
    );
  });

  it('says why a budget in money cannot be evaluated', () => {
    const text = budgetText(
      budget({
        amount: 5,
        seconds: null,
        limit_seconds: null,
        problem: 'No rate.'
      }),
      null,
      trans
    );
    expect(text).toBe('Budget 5.00, then close: No rate.');
  });
});

describe('instanceRiskText', () => {
  const reading = instanceReading();

  it('warns before the open sessions can use up what is left', () => {
    expect(instanceRiskText(reading, trans)).toBe(
      'Left open until their max TTL, the open sessions could be billed 1 h 00 min, more than the 1 min 30 s left on the instance.'
    );
    expect(instanceRiskText({ ...reading, at_risk: false }, trans)).toBeNull();
  });
});

describe("money in the currency's own decimals (#26 item 7)", () => {
  // The cases the kernel's and the receipts' money is checked against too
  // (tests/test_money_text.py).
  it.each(cases.amounts)('writes $amount $currency as "$text"', c => {
    setMoneyLanguage('en');
    expect(formatMoney(c.amount, c.currency)).toBe(c.text);
  });

  it.each(cases.rates)('writes a rate of $rate $currency as "$text"', c => {
    setMoneyLanguage('en');
    expect(formatRate(c.rate, c.currency)).toBe(`${c.text} ${c.currency}`);
  });

  it('follows the currency: none for JPY, three for KWD, two for a label', () => {
    expect(currencyDigits('JPY')).toBe(0);
    expect(currencyDigits('KWD')).toBe(3);
    expect(currencyDigits('credits')).toBe(2);
  });

  it("uses the page's language for separators", () => {
    setMoneyLanguage('de-DE');
    expect(formatMoney(1850.5, 'EUR')).toBe('1.850,50 EUR');
    setMoneyLanguage('not a language!');
    expect(formatMoney(1.5, 'USD')).toMatch(/^1.50 USD$/);
    setMoneyLanguage('en');
  });
});

describe('a notebook budget over several servers (#25 item 6)', () => {
  it('says that it counts sessions another server monitors', () => {
    const text = budgetText(
      budget({
        scope: 'notebook',
        target: 'n.ipynb',
        spent_seconds: 480,
        limit_seconds: 600,
        elsewhere_session_ids: ['s1']
      }),
      null,
      trans
    );
    expect(text).toBe(
      'Notebook budget 10 min 00 s, then close: 8 min 00 s used (80 %) (counts 1 session another Jupyter server monitors)'
    );
  });
});

describe('an instance with no limit reported (walkthrough)', () => {
  it('says when its figure was read, so it is not read as now', () => {
    const reading = instanceReading({
      limit_seconds: null,
      remaining_seconds: null,
      projected_remaining_seconds: null,
      consumed_seconds: 5.4,
      at_risk: false
    });
    expect(instanceSummary(reading, trans)).toBe(
      `Instance: 5.4 s used as of ${clockTime(reading.as_of)} (default account)`
    );
  });
});
