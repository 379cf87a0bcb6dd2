import { ServerConnection } from '@jupyterlab/services';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { MonitorModel, VIEWER_HEARTBEAT_MS } from '../store/model';

/** Settings whose fetch records each call (without the cache-busting number JupyterLab adds)
 * and answers an empty snapshot or 204. */
function recording(calls: string[]): ServerConnection.ISettings {
  return ServerConnection.makeSettings({
    baseUrl: 'http://127.0.0.1:8888/',
    wsUrl: 'ws://127.0.0.1:1/',
    fetch: (async (input: RequestInfo, init?: RequestInit) => {
      const request = typeof input === 'string' ? undefined : input;
      const url = new URL(request?.url ?? (input as string));
      calls.push(
        `${request?.method ?? init?.method ?? 'GET'} ${url.pathname}${url.search}`.replace(
          /[?&]\d+$/,
          ''
        )
      );
      if (url.pathname.endsWith('/sessions')) {
        return new Response(
          JSON.stringify({
            sessions: [],
            server_time: new Date().toISOString(),
            version: 0
          }),
          { status: 200 }
        );
      }
      return new Response(null, { status: 204 });
    }) as typeof fetch
  });
}

/** Let the requests started so far reach the recording fetch. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise(resolve => setTimeout(resolve, 0));
  }
}

function setVisibility(state: 'visible' | 'hidden'): void {
  Object.defineProperty(document, 'visibilityState', {
    configurable: true,
    get: () => state
  });
}

describe('MonitorModel', () => {
  afterEach(() => {
    vi.useRealTimers();
    setVisibility('visible');
  });

  it('tells the server a visible page is looking, every half minute, and not while hidden', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const calls: string[] = [];
    setVisibility('visible');
    const model = new MonitorModel(recording(calls));
    const viewers = () =>
      calls.filter(c => c === 'POST /session-monitor/api/viewers').length;

    model.start();
    await settle();
    expect(viewers()).toBe(1);
    vi.advanceTimersByTime(VIEWER_HEARTBEAT_MS);
    await settle();
    expect(viewers()).toBe(2);
    setVisibility('hidden');
    vi.advanceTimersByTime(VIEWER_HEARTBEAT_MS * 3);
    expect(viewers()).toBe(2);
    setVisibility('visible');
    document.dispatchEvent(new Event('visibilitychange'));
    await settle();
    expect(viewers()).toBe(3);
    model.dispose();
  });

  it('asks the server to read the service before a confirmation', async () => {
    const calls: string[] = [];
    const model = new MonitorModel(recording(calls));

    await model.fetchFresh('s/1').catch(() => undefined);

    expect(calls).toEqual([
      'GET /session-monitor/api/sessions/s%2F1?fresh=true'
    ]);
  });
});
