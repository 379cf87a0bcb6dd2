import { ServerConnection } from '@jupyterlab/services';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { CHANGES_SCHEMA_ID, PushChannel } from '../store/push';
import type { IChange } from '../store/sessionStore';

/** A WebSocket the test opens, feeds and drops by hand. */
class FakeSocket {
  static all: FakeSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((message: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  close(): void {
    this.onclose?.();
  }
}

describe('PushChannel', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.all = [];
  });
  afterEach(() => vi.useRealTimers());

  function channel() {
    const events: string[] = [];
    const changes: IChange[] = [];
    const settings = ServerConnection.makeSettings({
      baseUrl: 'http://localhost:8888/',
      wsUrl: 'ws://localhost:8888/',
      token: 'secret',
      appendToken: true,
      WebSocket: FakeSocket as unknown as typeof WebSocket
    });
    const push = new PushChannel(
      {
        opened: () => events.push('opened'),
        closed: () => events.push('closed'),
        change: change => changes.push(change)
      },
      settings
    );
    return { push, events, changes };
  }

  it('subscribes to the event bus and passes on only the monitor changes', () => {
    const { push, events, changes } = channel();
    push.start();
    const socket = FakeSocket.all[0];
    expect(socket.url).toBe(
      'ws://localhost:8888/api/events/subscribe?token=secret'
    );
    socket.onopen?.();
    socket.onmessage?.({
      data: JSON.stringify({
        schema_id: 'https://events.jupyter.org/other/v1',
        x: 1
      })
    });
    socket.onmessage?.({
      data: JSON.stringify({
        schema_id: CHANGES_SCHEMA_ID,
        version: 7,
        kind: 'removed',
        session_id: 's1'
      })
    });

    expect(events).toEqual(['opened']);
    expect(changes).toEqual([
      {
        version: 7,
        kind: 'removed',
        session_id: 's1',
        session: null,
        polled: null,
        money: null
      }
    ]);
  });

  it('passes on what a "polled" and a "money" change carry', () => {
    const { push, changes } = channel();
    push.start();
    const socket = FakeSocket.all[0];
    socket.onopen?.();
    const money = {
      rate: { rate_per_second: 0.5, currency: 'USD' },
      instances: [],
      notebook_budgets: []
    };
    for (const [version, kind, extra] of [
      [8, 'polled', { polled: { s1: '2026-01-01T12:00:05.000Z' } }],
      [9, 'money', { money }]
    ] as const) {
      socket.onmessage?.({
        data: JSON.stringify({
          schema_id: CHANGES_SCHEMA_ID,
          version,
          kind,
          session_id: '',
          session: null,
          ...extra
        })
      });
    }

    expect(changes[0].polled).toEqual({ s1: '2026-01-01T12:00:05.000Z' });
    expect(changes[1].money).toEqual(money);
  });

  it('says when it drops, reconnects with backoff, and says when it is back', () => {
    const { push, events } = channel();
    push.start();
    FakeSocket.all[0].onopen?.();
    FakeSocket.all[0].onclose?.();
    expect(events).toEqual(['opened', 'closed']);

    vi.advanceTimersByTime(500);
    expect(FakeSocket.all).toHaveLength(2);
    FakeSocket.all[1].onclose?.(); // still down: waits longer
    vi.advanceTimersByTime(500);
    expect(FakeSocket.all).toHaveLength(2);
    vi.advanceTimersByTime(500);
    expect(FakeSocket.all).toHaveLength(3);
    FakeSocket.all[2].onopen?.();

    expect(events).toEqual(['opened', 'closed', 'closed', 'opened']);
    push.dispose();
  });

  it('says so when the socket never opens (a proxy that does not pass WebSockets)', () => {
    const { push, events } = channel();
    push.start();
    FakeSocket.all[0].onclose?.();

    expect(events).toEqual(['closed']);
    push.dispose();
  });
});
