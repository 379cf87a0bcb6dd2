import { ServerConnection } from '@jupyterlab/services';
import { describe, expect, it } from 'vitest';

import { VersionModel } from '../versionModel';

/** Settings whose fetch answers from the given function instead of the network. */
function settingsAnswering(
  answer: (url: string) => Promise<Response>
): ServerConnection.ISettings {
  return ServerConnection.makeSettings({
    baseUrl: 'http://127.0.0.1:8888/lab-base/',
    fetch: ((input: RequestInfo) =>
      answer(typeof input === 'string' ? input : input.url)) as typeof fetch
  });
}

describe('VersionModel', () => {
  it('asks GET {base_url}session-monitor/api/version and holds the answer', async () => {
    const urls: string[] = [];
    const model = new VersionModel(
      settingsAnswering(async url => {
        urls.push(new URL(url).pathname);
        return new Response(
          JSON.stringify({
            version: '0.1.0',
            qiskit_ibm_runtime_version: '0.51.0'
          }),
          { status: 200 }
        );
      })
    );
    const seen: string[] = [];
    model.stateChanged.connect((_, state) => seen.push(state.status));

    await model.refresh();

    expect(urls).toEqual(['/lab-base/session-monitor/api/version']);
    expect(seen).toEqual(['loading', 'ready']);
    expect(model.state).toEqual({
      status: 'ready',
      info: { version: '0.1.0', qiskit_ibm_runtime_version: '0.51.0' }
    });
  });

  it('turns the API error body into the message to show', async () => {
    const model = new VersionModel(
      settingsAnswering(
        async () =>
          new Response(
            JSON.stringify({
              error: { kind: 'forbidden', message: 'Log in again.' }
            }),
            { status: 403, statusText: 'Forbidden' }
          )
      )
    );

    await model.refresh();

    expect(model.state.status).toBe('error');
    if (model.state.status === 'error') {
      expect(model.state.error.kind).toBe('forbidden');
      expect(model.state.error.status).toBe(403);
      expect(model.state.error.message).toBe('Log in again.');
    }
  });

  it('says the server cannot be reached when the request fails outright', async () => {
    const model = new VersionModel(
      settingsAnswering(async () => {
        throw new TypeError('Failed to fetch');
      })
    );

    await model.refresh();

    expect(model.state.status).toBe('error');
    if (model.state.status === 'error') {
      expect(model.state.error.kind).toBe('network');
      expect(model.state.error.status).toBeNull();
      expect(model.state.error.message).toMatch(
        /^Cannot reach the Jupyter server/
      );
    }
  });

  it('describes a non-JSON failure (a proxy page) by its status', async () => {
    const model = new VersionModel(
      settingsAnswering(
        async () =>
          new Response('<html>Bad gateway</html>', {
            status: 502,
            statusText: 'Bad Gateway'
          })
      )
    );

    await model.refresh();

    expect(model.state.status === 'error' && model.state.error.message).toBe(
      'The server answered 502 Bad Gateway.'
    );
  });
});
