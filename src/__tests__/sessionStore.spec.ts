import { describe, expect, it, vi } from 'vitest';

import {
  IChange,
  ISessionView,
  ISnapshot,
  SessionStore
} from '../store/sessionStore';

function view(id: string, status = 'Pending'): ISessionView {
  return {
    id,
    status,
    state: 'open',
    mode: 'dedicated',
    backend: 'ibm_torino',
    notebook_path: 'vqe.ipynb',
    kernel_id: 'k1',
    orphaned: false,
    stale: false,
    deadlines: {
      max_ttl_at: null,
      interactive_ttl_at: null,
      idle_close_at: null
    }
  };
}

function change(version: number, id: string, status = 'Pending'): IChange {
  return {
    version,
    kind: 'updated',
    session_id: id,
    session: view(id, status)
  };
}

/** A snapshot source the test controls: each call waits until the test answers it. */
class Snapshots {
  calls = 0;
  answer: (snapshot: ISnapshot) => void = () => undefined;
  fail: (error: Error) => void = () => undefined;

  fetch = (): Promise<ISnapshot> => {
    this.calls += 1;
    return new Promise<ISnapshot>((resolve, reject) => {
      this.answer = resolve;
      this.fail = reject;
    });
  };
}

const SERVER_TIME = '2026-01-01T12:00:00.000Z';

async function loaded(
  sessions: ISessionView[],
  version: number
): Promise<{ store: SessionStore; source: Snapshots }> {
  const source = new Snapshots();
  const store = new SessionStore(
    source.fetch,
    () => Date.parse(SERVER_TIME) + 5_000
  );
  const done = store.resync();
  source.answer({ sessions, server_time: SERVER_TIME, version });
  await done;
  return { store, source };
}

describe('SessionStore', () => {
  it('keeps the money of the snapshot and of "money" changes, without touching sessions', async () => {
    const { store } = await loaded([view('a')], 7);
    const money = {
      rate: { rate_per_second: 0.5, currency: 'USD' },
      instances: [],
      notebook_budgets: []
    };

    store.apply({
      version: 8,
      kind: 'money',
      session_id: '',
      session: null,
      money
    });

    expect(store.money).toEqual(money);
    expect([...store.sessions.keys()]).toEqual(['a']);
    expect(store.version).toBe(8);
  });

  it('loads the snapshot, its version and the clock offset', async () => {
    const { store } = await loaded([view('a'), view('b')], 7);

    expect([...store.sessions.keys()]).toEqual(['a', 'b']);
    expect(store.version).toBe(7);
    expect(store.clockOffset).toBe(5_000);
    expect(store.connection).toBe('live');
  });

  it('applies changes in order and tells listeners', async () => {
    const { store } = await loaded([view('a')], 7);
    let notified = 0;
    store.changed.connect(() => (notified += 1));

    store.apply(change(8, 'a', 'In progress, accepting new jobs'));
    store.apply({
      version: 9,
      kind: 'added',
      session_id: 'c',
      session: view('c')
    });
    store.apply({
      version: 10,
      kind: 'removed',
      session_id: 'a',
      session: null
    });

    expect([...store.sessions.keys()]).toEqual(['c']);
    expect(store.version).toBe(10);
    expect(notified).toBe(3);
  });

  it('takes the time of polls that changed nothing else from a polled notice', async () => {
    const { store } = await loaded([view('a'), view('b')], 7);
    const before = store.sessions.get('b');
    let notified = 0;
    store.changed.connect(() => (notified += 1));

    store.apply({
      version: 8,
      kind: 'polled',
      session_id: '',
      session: null,
      polled: {
        a: '2026-01-01T12:00:09.000Z',
        gone: '2026-01-01T12:00:09.000Z'
      }
    });

    expect(store.sessions.get('a')?.last_polled_at).toBe(
      '2026-01-01T12:00:09.000Z'
    );
    expect(store.sessions.get('a')?.status).toBe('Pending');
    expect(store.sessions.get('b')).toBe(before);
    expect(store.sessions.has('gone')).toBe(false);
    expect(store.version).toBe(8);
    expect(notified).toBe(1);
  });

  it('ignores a change the snapshot already holds', async () => {
    const { store, source } = await loaded([view('a', 'Closed')], 7);

    store.apply(change(7, 'a', 'Pending'));

    expect(store.sessions.get('a')?.status).toBe('Closed');
    expect(source.calls).toBe(1);
  });

  it('reloads the snapshot when a change was missed, keeping newer changes', async () => {
    const { store, source } = await loaded([view('a')], 7);

    store.apply(change(9, 'a', 'gap')); // 8 was missed
    expect(source.calls).toBe(2);
    store.apply(change(10, 'b')); // arrives while reloading
    store.apply(change(11, 'a', 'Closed'));
    source.answer({
      sessions: [view('a', 'at 9')],
      server_time: SERVER_TIME,
      version: 9
    });
    await store.resync();

    expect(store.version).toBe(11);
    expect(store.sessions.get('a')?.status).toBe('Closed');
    expect(store.sessions.has('b')).toBe(true);
  });

  it('loads a snapshot asked for after the push channel subscribed, not only the one in flight', async () => {
    const source = new Snapshots();
    const store = new SessionStore(source.fetch);
    const first = store.resync(); // at start, before the socket is open
    const firstAnswer = source.answer;

    void store.resync({ fresh: true }); // the socket opened while the first request was out
    firstAnswer({
      sessions: [view('a', 'Pending')],
      server_time: SERVER_TIME,
      version: 3
    });
    await Promise.resolve();
    await Promise.resolve();
    await Promise.resolve();
    expect(source.calls).toBe(2); // asked again, after the subscription
    source.answer({
      sessions: [view('a', 'In progress, accepting new jobs')],
      server_time: SERVER_TIME,
      version: 4
    });
    await first;

    expect(store.version).toBe(4);
    expect(store.sessions.get('a')?.status).toBe(
      'In progress, accepting new jobs'
    );
  });

  it('reloads again when the changes kept during a reload have a hole', async () => {
    const { store, source } = await loaded([view('a')], 7);

    const reload = store.resync();
    store.apply(change(9, 'a', 'at 9'));
    store.apply(change(11, 'a', 'at 11')); // 10 never arrived
    source.answer({
      sessions: [view('a')],
      server_time: SERVER_TIME,
      version: 8
    });
    await Promise.resolve();
    await Promise.resolve();
    await Promise.resolve();
    expect(source.calls).toBe(3);
    source.answer({
      sessions: [view('a', 'at 11')],
      server_time: SERVER_TIME,
      version: 11
    });
    await reload;

    expect(store.version).toBe(11);
    expect(store.sessions.get('a')?.status).toBe('at 11');
  });

  it('tries a failed reload again by itself, later and later', async () => {
    vi.useFakeTimers();
    try {
      const source = new Snapshots();
      const store = new SessionStore(source.fetch);
      const first = store.resync();
      source.fail(new Error('502'));
      await first;
      expect(store.connection).toBe('error');

      vi.advanceTimersByTime(1_300); // 1 s with jitter
      expect(source.calls).toBe(2);
      source.fail(new Error('502'));
      await vi.advanceTimersByTimeAsync(0);
      vi.advanceTimersByTime(1_400);
      expect(source.calls).toBe(2); // the second wait is about 2 s
      vi.advanceTimersByTime(1_200);
      expect(source.calls).toBe(3);
      source.answer({ sessions: [], server_time: SERVER_TIME, version: 1 });
      await vi.advanceTimersByTimeAsync(0);
      expect(store.connection).toBe('live');
      store.dispose();
    } finally {
      vi.useRealTimers();
    }
  });

  it('says reconnecting while the push channel is down, and live once it is open again', async () => {
    const { store, source } = await loaded([view('a')], 7);

    store.disconnected();
    expect(store.connection).toBe('reconnecting');
    // A reload (the tab came back into view) refreshes the numbers but no change would be
    // pushed after it: not live.
    const reload = store.resync();
    source.answer({
      sessions: [view('a')],
      server_time: SERVER_TIME,
      version: 12
    });
    await reload;
    expect(store.connection).toBe('reconnecting');
    expect(store.version).toBe(12);

    const back = store.connected();
    source.answer({
      sessions: [view('a')],
      server_time: SERVER_TIME,
      version: 13
    });
    await back;
    expect(store.connection).toBe('live');
    expect(store.version).toBe(13);
  });

  it('keeps what it had and says why when a reload fails', async () => {
    const { store, source } = await loaded([view('a')], 7);

    const reload = store.resync();
    source.fail(
      new Error('Cannot reach the Jupyter server (Failed to fetch).')
    );
    await reload;

    expect(store.connection).toBe('error');
    expect(store.error).toBe(
      'Cannot reach the Jupyter server (Failed to fetch).'
    );
    expect([...store.sessions.keys()]).toEqual(['a']); // never a blank panel
  });

  it('shares one reload between callers', async () => {
    const source = new Snapshots();
    const store = new SessionStore(source.fetch);

    const first = store.resync();
    const second = store.resync();
    source.answer({ sessions: [], server_time: SERVER_TIME, version: 1 });
    await Promise.all([first, second]);

    expect(source.calls).toBe(1);
  });
});

describe('SessionStore.open', () => {
  const ids = (store: SessionStore) =>
    store.open.map(v => `${v.id}:${v.status}`);
  const closed = (id: string): ISessionView => ({
    ...view(id, 'Closed'),
    state: 'closed'
  });

  it('lists the open sessions as they are after every kind of change', async () => {
    const { store } = await loaded([view('a'), view('b'), closed('c')], 1);
    expect(ids(store)).toEqual(['a:Pending', 'b:Pending']);
    const before = store.open;

    store.apply(change(2, 'b', 'Active')); // stays open: replaced in a new list
    expect(ids(store)).toEqual(['a:Pending', 'b:Active']);
    expect(before.map(v => v.status)).toEqual(['Pending', 'Pending']);

    store.apply({
      version: 3,
      kind: 'updated',
      session_id: 'a',
      session: closed('a')
    });
    expect(ids(store)).toEqual(['b:Active']);
    store.apply(change(4, 'c', 'Active')); // open again
    expect(ids(store)).toEqual(['b:Active', 'c:Active']);
    store.apply(change(5, 'd')); // new
    expect(ids(store)).toEqual(['b:Active', 'c:Active', 'd:Pending']);
    store.apply({
      version: 6,
      kind: 'removed',
      session_id: 'b',
      session: null
    });
    expect(ids(store)).toEqual(['c:Active', 'd:Pending']);
    store.apply({
      version: 7,
      kind: 'polled',
      session_id: '',
      session: null,
      polled: { d: '2026-01-01T12:01:00Z' }
    });
    expect(store.open.find(v => v.id === 'd')?.last_polled_at).toBe(
      '2026-01-01T12:01:00Z'
    );
    store.apply(change(8, 'd', 'Active')); // replaced after a listing made anew
    expect(ids(store)).toEqual(['c:Active', 'd:Active']);
  });
});

describe('SessionStore.watch', () => {
  it('calls a session’s watchers after a change to that session only, with `changed` naming it', async () => {
    const { store } = await loaded([view('a'), view('b')], 1);
    const heard: string[] = [];
    const stopA = store.watch('a', () => heard.push('a'));
    store.watch('b', () => heard.push('b'));
    const named: (string[] | null)[] = [];
    store.changed.connect(() => {
      const touched = store.lastChanged;
      named.push(touched && [...touched]);
    });

    store.apply(change(2, 'a', 'In progress'));
    expect(heard).toEqual(['a']);
    expect(named).toEqual([['a']]);

    stopA();
    store.apply(change(3, 'a', 'Pending'));
    expect(heard).toEqual(['a']);
    store.apply({
      version: 4,
      kind: 'removed',
      session_id: 'b',
      session: null
    });
    expect(heard).toEqual(['a', 'b']);
    expect(named).toEqual([['a'], ['a'], ['b']]);
  });

  it('calls every watcher after a reload, and none when the connection alone changes', async () => {
    const source = new Snapshots();
    const store = new SessionStore(source.fetch);
    const heard: string[] = [];
    store.watch('a', () => heard.push('a'));
    store.watch('b', () => heard.push('b'));
    const first = store.resync();
    source.answer({
      sessions: [view('a')],
      server_time: SERVER_TIME,
      version: 1
    });
    await first;
    expect(heard).toEqual(['a', 'b']);
    expect(store.lastChanged).toBeNull();

    store.disconnected();
    expect(heard).toEqual(['a', 'b']);
    expect(store.lastChanged?.size).toBe(0);
  });
});
