import { nullTranslator } from '@jupyterlab/translation';
import { describe, expect, it } from 'vitest';

import { DEFAULT_SETTINGS, settingsFrom } from '../store/model';
import { attentionOf, SeenKeys, VisibleTabs } from '../attention';
import type { ISessionView } from '../store/sessionStore';
import { statusSummary } from '../statusbar';
import { job, sessionView, T0, withJobs } from './fixtures';

const trans = nullTranslator.load('jupyter_session_monitor');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

function kinds(
  view: ISessionView,
  previous?: ISessionView,
  now = T0,
  settings = DEFAULT_SETTINGS
): string[] {
  return attentionOf(view, previous, now, 0, settings, trans).map(a => a.kind);
}

describe('attentionOf', () => {
  it('warns once per max TTL threshold, only the tightest one crossed', () => {
    const view = sessionView({
      deadlines: {
        max_ttl_at: at(240),
        interactive_ttl_at: null,
        idle_close_at: null
      },
      ...withJobs([job('q', 'QUEUED'), job('r', 'RUNNING')])
    });
    const [fiveMinutes] = attentionOf(
      view,
      view,
      T0,
      0,
      DEFAULT_SETTINGS,
      trans
    );
    const [oneMinute] = attentionOf(
      view,
      view,
      T0 + 200_000,
      0,
      DEFAULT_SETTINGS,
      trans
    );

    expect(fiveMinutes.kind).toBe('max_ttl');
    expect(fiveMinutes.message).toBe(
      `Session a11199df (vqe.ipynb) reaches its max TTL at ${new Date(
        T0 + 240_000
      ).toLocaleTimeString()} (in 4 min 00 s): 1 queued job will fail.`
    );
    expect(oneMinute.key).not.toBe(fiveMinutes.key);
    expect(kinds(view, view, T0 - 100_000)).toEqual([]); // 340 s left: no threshold yet
    expect(oneMinute.offerClose).toBe(true);
  });

  it('does not warn of a threshold the session was opened under', () => {
    const short = sessionView({
      deadlines: {
        max_ttl_at: at(150),
        interactive_ttl_at: null,
        idle_close_at: null
      },
      details: { max_time: 150 }
    });
    expect(kinds(short, short)).toEqual([]); // 5-minute warning: it never had 5 minutes
    expect(kinds(short, short, T0 + 100_000)).toEqual(['max_ttl']); // 1 minute left
  });

  it('announces state changes only when the page saw them happen', () => {
    const active = sessionView({ details: { last_job_completed: at(-10) } });
    const inactive = sessionView({ state: 'inactive', status: 'Pending' });
    const closed = sessionView({
      state: 'closed',
      status: 'Closed',
      end_reason: 'max_ttl'
    });

    expect(kinds(inactive, active)).toEqual(['inactive']);
    expect(kinds(inactive, undefined)).toEqual([]); // just loaded: no replay of history
    const [ended] = attentionOf(closed, active, T0, 0, DEFAULT_SETTINGS, trans);
    expect(ended.kind).toBe('closed');
    expect(ended.type).toBe('warning');
    expect(ended.message).toContain('maximum time');
    expect(kinds(closed, closed)).toEqual([]);
    // Closed or cancelled on request: it ended as asked, no notification.
    const asked = { ...closed, end_reason: 'closed' };
    expect(kinds(asked, active)).toEqual([]);
  });

  it('says an idle active session is still billed, after the configured seconds', () => {
    const idle = sessionView({ details: { last_job_completed: at(-31) } });
    const busy = sessionView({
      details: { last_job_completed: at(-31) },
      ...withJobs([job('r', 'RUNNING')])
    });

    expect(kinds(idle, idle)).toEqual(['idle']);
    expect(kinds(busy, busy)).toEqual([]);
    expect(
      kinds(idle, idle, T0, { ...DEFAULT_SETTINGS, idleWarningSeconds: 0 })
    ).toEqual([]);
  });

  it("counts idle time on the server's clock when the service's differs", () => {
    // The service's clock 10 minutes ahead: its last job ended 31 s ago, stamped 599 s ahead.
    const ahead = sessionView({
      details: { last_job_completed: at(569) },
      service_clock_offset_seconds: 600
    });
    const behind = sessionView({
      details: { last_job_completed: at(-620) },
      service_clock_offset_seconds: -600
    });

    expect(kinds(ahead, ahead)).toEqual(['idle']);
    expect(kinds(behind, behind)).toEqual([]); // 20 s ago: not yet
  });

  it('reports each failed job once and an orphaned session once', () => {
    const before = sessionView(withJobs([job('j1', 'RUNNING')]));
    const after = sessionView({
      ...withJobs([job('j1', 'ERROR')]),
      orphaned: true
    });

    const found = attentionOf(after, before, T0, 0, DEFAULT_SETTINGS, trans);
    expect(found.map(a => a.kind)).toEqual(['job_failed', 'orphaned']);
    expect(found[0].key).toBe('a11199df80a94d84840b:job_failed:j1');
    expect(kinds(after, after)).toEqual([]);
  });

  it('reports jobs that fail together as one notification, with the reason', () => {
    const reason = {
      code: null,
      message: 'The session reached its max TTL before the job ran.'
    };
    const queued = ['q1', 'q2', 'q3'].map(id => job(id, 'QUEUED'));
    const before = sessionView(withJobs(queued));
    const after = sessionView({
      state: 'closed',
      status: 'Closed',
      ...withJobs(queued.map(j => ({ ...j, status: 'ERROR', reason })))
    });

    const found = attentionOf(after, before, T0, 0, DEFAULT_SETTINGS, trans);
    const failures = found.filter(a => a.kind === 'job_failed');
    expect(failures).toHaveLength(1);
    expect(failures[0].message).toBe(
      '3 jobs of Session a11199df (vqe.ipynb) failed: The session reached its max TTL before the job ran.'
    );
  });

  it("says why a job failed, in the service's words", () => {
    const before = sessionView(withJobs([job('j1', 'RUNNING')]));
    const failed = {
      ...job('j1', 'ERROR'),
      reason: { code: 1517, message: 'The circuit acts on 22 qubits' }
    };
    const after = sessionView(withJobs([failed]));

    const [found] = attentionOf(after, before, T0, 0, DEFAULT_SETTINGS, trans);
    expect(found.message).toBe(
      'Job j1 of Session a11199df (vqe.ipynb) failed: 1517: The circuit acts on 22 qubits'
    );
  });

  it('says once when the service no longer knows a session, and stops counting it', () => {
    const before = sessionView();
    const lost = sessionView({ not_found: true });

    const found = attentionOf(lost, before, T0, 0, DEFAULT_SETTINGS, trans);
    expect(found.map(a => a.kind)).toEqual(['closed']);
    expect(found[0].message).toContain('no longer knows this session');
    const model = {
      store: {
        sessions: new Map([['a', lost]]),
        clockOffset: 0,
        money: { instances: [] }
      },
      settings: DEFAULT_SETTINGS
    } as unknown as Parameters<typeof statusSummary>[0];
    expect(statusSummary(model, T0).open).toBe(0);
  });

  it("puts the open sessions' cost and a money warning in the status bar", () => {
    const billing = {
      billed_seconds: 100,
      billed_idle_seconds: 0,
      max_billed_seconds: 200,
      cost: 50,
      max_cost: 100,
      currency: 'USD',
      rate_per_second: 0.5,
      accruing: false,
      idle_accruing: false,
      accrues_until: null
    };
    const summary = (instances: unknown[]) =>
      statusSummary(
        {
          store: {
            sessions: new Map([['a', sessionView({ billing })]]),
            clockOffset: 0,
            money: { instances }
          },
          settings: DEFAULT_SETTINGS
        } as unknown as Parameters<typeof statusSummary>[0],
        T0
      );
    expect(summary([])).toMatchObject({ cost: '50.00 USD', warn: false });
    expect(summary([{ at_risk: true, limit_reached: false }])).toMatchObject({
      warn: true,
      money: 'instance'
    });
  });

  it('says only "orphaned" for a session whose kernel restarted, not also "inactive" or "idle"', () => {
    const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
    const active = sessionView({ details: { last_job_completed: at(-31) } });
    const restarted = sessionView({
      state: 'inactive',
      status: 'Pending',
      orphaned: true,
      details: { last_job_completed: at(-31) }
    });

    expect(kinds(restarted, active)).toEqual(['orphaned']);
    expect(kinds({ ...active, orphaned: true }, active)).toEqual(['orphaned']);
  });

  it('says a headless run ended, not that a kernel is gone, for a headless session', () => {
    const run = sessionView({ source: 'headless', kernel_id: null });
    const [found] = attentionOf(
      { ...run, orphaned: true },
      run,
      T0,
      0,
      DEFAULT_SETTINGS,
      trans
    );
    expect(found.kind).toBe('orphaned');
    expect(found.message).toMatch(/the headless run that opened it ended/);
  });

  it('respects the settings that turn a kind off', () => {
    const orphan = sessionView({ orphaned: true });
    const off = settingsFrom({ notify: { orphaned: false } });
    expect(kinds(orphan, undefined, T0, off)).toEqual([]);
  });
});

class MemoryStorage implements Storage {
  private items = new Map<string, string>();
  get length(): number {
    return this.items.size;
  }
  clear(): void {
    this.items.clear();
  }
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}

describe('SeenKeys', () => {
  it('lets one tab of the browser claim a key, once', async () => {
    const shared = new MemoryStorage();
    const tabA = new SeenKeys(shared);
    const tabB = new SeenKeys(shared);

    expect(await tabA.claim('s1:orphaned')).toBe(true);
    expect(await tabA.claim('s1:orphaned')).toBe(false);
    expect(await tabB.claim('s1:orphaned')).toBe(false);
    expect(await tabB.claim('s2:orphaned')).toBe(true);
  });

  it('forgets keys after a day', async () => {
    const shared = new MemoryStorage();
    let now = T0;
    const early = new SeenKeys(shared, () => now);
    await early.claim('old');
    now += SeenKeys.KEEP_MS + 1;
    await new SeenKeys(shared, () => now).claim('new');

    expect(
      Object.keys(JSON.parse(shared.getItem(SeenKeys.STORAGE_KEY)!))
    ).toEqual(['new']);
  });
});

describe('settings and the status bar', () => {
  it('falls back to defaults for malformed values and sorts thresholds', () => {
    const settings = settingsFrom({
      maxTtlWarnings: [60, 'x', 600],
      idleWarningSeconds: -5,
      notify: { closed: false }
    });
    expect(settings.maxTtlWarnings).toEqual([600, 60]);
    expect(settings.idleWarningSeconds).toBe(
      DEFAULT_SETTINGS.idleWarningSeconds
    );
    expect(settings.notify.closed).toBe(false);
    expect(settings.notify.orphaned).toBe(true);
  });

  it('counts open sessions and the soonest countdown, warning under the threshold', () => {
    const sessions = new Map(
      [
        sessionView({
          id: 'a',
          deadlines: {
            max_ttl_at: at(900),
            interactive_ttl_at: null,
            idle_close_at: null
          }
        }),
        sessionView({
          id: 'b',
          deadlines: {
            max_ttl_at: null,
            interactive_ttl_at: at(10), // deactivation is not a close: not counted
            idle_close_at: at(250)
          }
        }),
        sessionView({ id: 'c', state: 'closed' })
      ].map(v => [v.id, v])
    );
    const model = {
      store: { sessions, clockOffset: 0, money: { instances: [] } },
      settings: DEFAULT_SETTINGS
    } as unknown as Parameters<typeof statusSummary>[0];

    expect(statusSummary(model, T0)).toMatchObject({
      open: 2,
      soonest: 250,
      warn: true,
      cost: null
    });
    expect(statusSummary(model, T0 - 100_000)).toMatchObject({
      open: 2,
      soonest: 350,
      warn: false
    });
  });
});

describe('VisibleTabs', () => {
  it('lets the tab the user looks at show a notification, and a hidden one only when no tab is looked at', () => {
    const shared = new MemoryStorage();
    let now = 1_000_000;
    let aVisible = true;
    const tabA = new VisibleTabs(
      shared,
      () => now,
      () => aVisible
    );
    const tabB = new VisibleTabs(
      shared,
      () => now,
      () => false
    );

    tabA.beat();
    tabB.beat(); // hidden: says nothing
    expect(tabA.shouldShow()).toBe(true);
    expect(tabB.shouldShow()).toBe(false); // A is looked at: A shows it

    now += VisibleTabs.FRESH_MS + 1; // A stopped beating: the user left the browser
    aVisible = false;
    expect(tabB.shouldShow()).toBe(true);
    expect(tabA.shouldShow()).toBe(true); // its own old beat does not hold it back
  });
});
