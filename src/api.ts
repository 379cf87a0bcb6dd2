import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** Where the monitor's REST API lives, relative to the server's base URL. */
export const API_NAMESPACE = 'session-monitor/api';

/** `GET version`: the monitor's and the Qiskit Runtime client's installed versions. */
export interface IVersionInfo {
  version: string;
  qiskit_ibm_runtime_version: string | null;
}

/** A failed call, described for people: what happened and what to do next. */
export class MonitorRequestError extends Error {
  constructor(
    /** `network` when the server could not be reached, else the API's error kind. */
    readonly kind: string,
    message: string,
    /** The HTTP status, or null when no response arrived. */
    readonly status: number | null
  ) {
    super(message);
    this.name = 'MonitorRequestError';
  }
}

/**
 * Call the monitor's REST API through JupyterLab's `ServerConnection` (which adds the
 * authentication and XSRF headers), and turn every failure into a `MonitorRequestError`.
 */
export async function requestAPI<T>(
  endpoint: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings(),
  /** `text`: the body as it is (a CSV download), not parsed as JSON. */
  as: 'json' | 'text' = 'json'
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, endpoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new MonitorRequestError(
      'network',
      `Cannot reach the Jupyter server (${(error as Error).message}). Check that it is still running.`,
      null
    );
  }
  const text = await response.text();
  if (as === 'text' && response.ok) {
    return text as T;
  }
  let body: unknown = null;
  if (text.length > 0) {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  if (!response.ok) {
    const error = (
      body as { error?: { kind?: string; message?: string } } | null
    )?.error;
    throw new MonitorRequestError(
      error?.kind ?? 'http',
      error?.message ??
        `The server answered ${response.status} ${response.statusText}`.trim() +
          '.',
      response.status
    );
  }
  return body as T;
}
