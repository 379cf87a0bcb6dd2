import { Notification } from '@jupyterlab/apputils';
import { nullTranslator } from '@jupyterlab/translation';
import { Signal } from '@lumino/signaling';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { SeenKeys, VisibleTabs } from '../attention';
import { DEFAULT_SETTINGS, type MonitorModel } from '../store/model';
import { Notifier } from '../notifier';
import type { IInstanceUsage, ISessionView } from '../store/sessionStore';
import { sessionView } from './fixtures';

const trans = nullTranslator.load('jupyter_session_monitor');

/** The parts of the page's model the notifier reads, driven by hand. */
function page(views: ISessionView[]) {
  const store = {
    sessions: new Map(views.map(v => [v.id, v])),
    changed: new Signal<object, void>({}),
    connection: 'live',
    clockOffset: 0,
    money: {
      rate: null,
      instances: [] as IInstanceUsage[],
      notebook_budgets: []
    }
  };
  const model = {
    store,
    ticker: { subscribe: () => () => undefined },
    settings: DEFAULT_SETTINGS,
    get: (id: string) => store.sessions.get(id)
  } as unknown as MonitorModel;
  const change = (next: ISessionView[]) => {
    store.sessions = new Map(next.map(v => [v.id, v]));
    store.changed.emit();
  };
  const tabs = { beat: () => undefined, shouldShow: () => true };
  const commands = { close: vi.fn(), reveal: vi.fn() };
  const notifier = new Notifier(
    model,
    trans,
    commands,
    new SeenKeys(null),
    tabs as unknown as VisibleTabs
  );
  return { store, change, commands, notifier };
}

/** Let the claims (promises) resolve. */
const settle = () => new Promise(resolve => setTimeout(resolve, 0));

const idle = (secondsAgo: number, changes: Partial<ISessionView> = {}) =>
  sessionView({
    details: {
      last_job_completed: new Date(Date.now() - secondsAgo * 1000).toISOString()
    },
    ...changes
  });

describe('Notifier (#26 item 3: notifications that stay true)', () => {
  let emit: ReturnType<typeof vi.spyOn>;
  let update: ReturnType<typeof vi.spyOn>;
  let dismiss: ReturnType<typeof vi.spyOn>;
  let info: ReturnType<typeof vi.spyOn>;
  beforeEach(() => {
    let next = 0;
    emit = vi
      .spyOn(Notification, 'emit')
      .mockImplementation(() => `n${++next}`);
    update = vi.spyOn(Notification, 'update').mockImplementation(() => true);
    dismiss = vi
      .spyOn(Notification, 'dismiss')
      .mockImplementation(() => undefined);
    info = vi.spyOn(Notification, 'info').mockImplementation(() => 'i');
  });
  afterEach(() => vi.restoreAllMocks());

  it('dismisses the idle warning once the session went inactive', async () => {
    const { change, notifier } = page([idle(31)]);
    change([idle(31)]);
    await settle();
    expect(emit).toHaveBeenCalledTimes(1);
    expect(String(emit.mock.calls[0][0])).toMatch(/has had no job for 31 s/);

    change([idle(40, { state: 'inactive', status: 'Pending' })]);

    expect(dismiss).toHaveBeenCalledWith('n1');
    notifier.dispose();
  });

  it('keeps the instance warning’s figures those the page shows, and dismisses it when the risk ends', async () => {
    const reading = (left: number, atRisk: boolean): IInstanceUsage => ({
      account: { name: null, instance: 'crn:1' },
      instance: 'crn:1',
      consumed_seconds: 100,
      limit_seconds: 1000,
      remaining_seconds: left,
      limit_reached: false,
      period_start: null,
      period_end: '2026-02-01T00:00:00Z',
      as_of: '2026-01-01T12:00:00Z',
      error: null,
      projected_remaining_seconds: left,
      open_worst_case_seconds: 3600,
      at_risk: atRisk
    });
    const { store, change, notifier } = page([]);
    store.money.instances = [reading(574, true)];
    change([]);
    await settle();
    expect(String(emit.mock.calls[0][0])).toMatch(/9 min 34 s left/);

    store.money.instances = [reading(560, true)];
    change([]);
    expect(update).toHaveBeenCalledWith({
      id: 'n1',
      message: expect.stringMatching(/9 min 20 s left/)
    });

    store.money.instances = [reading(560, false)];
    change([]);
    expect(dismiss).toHaveBeenCalledWith('n1');
    notifier.dispose();
  });

  it('dismisses a warning that offered to close the session once it is closing', async () => {
    // Walkthrough: the orphan toast's close offer stayed up after Close from the row.
    const { change, notifier } = page([idle(31)]);
    change([idle(31)]);
    await settle();
    const options = emit.mock.calls[0][2] as Notification.IOptions<unknown>;
    expect(options.actions!.map(a => a.label)).toContain('Close session…');

    change([idle(35, { accepting_jobs: false })]);
    await settle();

    expect(dismiss).toHaveBeenCalledWith('n1');
    expect(emit).toHaveBeenCalledTimes(1); // and not raised again
    notifier.dispose();
  });

  it('says there is nothing left to close when “Close now” comes after the session closed', async () => {
    const warned = (state: string) =>
      sessionView({
        state,
        status:
          state === 'closed' ? 'Closed' : 'In progress, accepting new jobs',
        budget: {
          scope: 'session',
          target: 'a11199df80a94d84840b',
          action: 'close',
          set_at: '2026-01-01T11:00:00Z',
          seconds: 100,
          amount: null,
          threshold: 0.8,
          warned: true,
          warned_at: '2026-01-01T11:50:00Z',
          reached: false,
          reached_at: null,
          outcome: null,
          spent_seconds: 85,
          spent_amount: null,
          limit_seconds: 100,
          used: 0.85,
          currency: null,
          problem: null
        }
      });
    const { change, commands, notifier } = page([warned('active')]);
    change([warned('active')]);
    await settle();
    const options = emit.mock.calls[0][2] as Notification.IOptions<unknown>;
    const closeNow = options.actions!.find(a => a.label === 'Close session…')!;

    change([warned('closed')]);
    closeNow.callback(new Event('click'));

    expect(commands.close).not.toHaveBeenCalled();
    expect(String(info.mock.calls[0][0])).toMatch(
      /already closed: there is nothing left to close/
    );
    notifier.dispose();
  });
});
