import { nullTranslator } from '@jupyterlab/translation';
import { act } from 'react';
import * as React from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { MoneyHeader } from '../components/Money';
import type { MonitorModel } from '../store/model';
import type { IBilling, ISessionView } from '../store/sessionStore';
import { SessionStore } from '../store/sessionStore';
import { Ticker } from '../ticker';
import { billing, instanceReading, sessionView } from './fixtures';
import { render } from './render';

const trans = nullTranslator.load('jupyter_session_monitor');

/** Billed `seconds`, and billed no more. */
function billed(seconds: number): IBilling {
  return billing({
    billed_seconds: seconds,
    billed_idle_seconds: 0,
    accruing: false,
    idle_accruing: false,
    accrues_until: null
  });
}

const READING = instanceReading({
  account: { name: 'lab', instance: 'crn:x' },
  as_of: new Date(2026, 2, 10, 23, 58).toISOString(), // local 23:58
  at_risk: false
});

async function header(sessions: ISessionView[]) {
  const store = new SessionStore(async () => ({
    sessions,
    server_time: new Date().toISOString(),
    version: 1,
    money: {
      rate: { rate_per_second: null, currency: null },
      instances: [READING],
      notebook_budgets: []
    }
  }));
  await store.resync();
  const ticker = new Ticker();
  const model = { store, ticker } as unknown as MonitorModel;
  const { container } = render(
    <MoneyHeader
      model={model}
      trans={trans}
      onSetRate={() => undefined}
      onCloseAll={() => undefined}
      onExport={() => undefined}
    />
  );
  let version = 1;
  const put = (view: ISessionView) =>
    act(() => {
      version += 1;
      store.apply({
        version,
        kind: 'updated',
        session_id: view.id,
        session: view
      });
    });
  return { container, put, ticker };
}

describe('MoneyHeader', () => {
  afterEach(() => vi.useRealTimers());

  it('follows every change to the open sessions, and offers Close all only while one is open', async () => {
    const open = sessionView({
      id: 'a',
      state: 'active',
      billing: billed(100)
    });
    const { container, put } = await header([open]);
    const total = () =>
      container.querySelector('[data-testid="total-billed"]')?.textContent;
    const closeAll = () => container.querySelector('[data-testid="close-all"]');
    expect(total()).toBe('1 min 40 s');
    expect(closeAll()).not.toBeNull();

    put({ ...open, billing: billed(160) });
    expect(total()).toBe('2 min 40 s');

    put({ ...open, state: 'closed', billing: billed(170) });
    expect(total()).toBeUndefined();
    expect(closeAll()).toBeNull();
  });

  it("writes the date of an instance's reading once its day is over, at the next change", async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(2026, 2, 10, 23, 59));
    const open = sessionView({
      id: 'a',
      state: 'active',
      billing: billed(100)
    });
    const { container, put } = await header([open]);
    act(() =>
      container
        .querySelector<HTMLButtonElement>('.jp-SessionMonitor-instanceToggle')!
        .click()
    );
    const instance = () =>
      container.querySelector('[data-testid="instance"]')?.textContent ?? '';
    const date = new Date(2026, 2, 10, 23, 58).toLocaleDateString();
    expect(instance()).not.toContain(date);

    vi.setSystemTime(new Date(2026, 2, 11, 0, 1));
    put({ ...open, billing: billed(110) });
    expect(instance()).toContain(date);
  });

  it('shows an instance in one line, what is left first, and the whole reading on demand', async () => {
    const { container } = await header([]);
    const toggle = container.querySelector<HTMLButtonElement>(
      '.jp-SessionMonitor-instanceToggle'
    )!;
    // #26 item 8: five lines at the top of a 250 px sidebar before.
    expect(toggle.textContent).toBe(
      'Instance: 1 min 30 s left of 10 min 00 s (lab)'
    );
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    expect(toggle.title).toContain('used this period');
    // In the page (aria-controls names it) but hidden while collapsed.
    const details = container.querySelector<HTMLElement>(
      '[data-testid="instance-details"]'
    )!;
    expect(details.hidden).toBe(true);
    act(() => toggle.click());
    expect(details.hidden).toBe(false);
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    expect(
      container.querySelector('[data-testid="instance-details"]')?.textContent
    ).toContain('used this period');
  });
});
