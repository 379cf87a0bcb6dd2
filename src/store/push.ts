import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { IChange } from './sessionStore';

/** The id of the monitor's registered jupyter_events schema. */
export const CHANGES_SCHEMA_ID =
  'https://events.jupyter.org/jupyter_session_monitor/session_changes/v1';

export interface IPushHandlers {
  /** The socket is (again) open: reload the snapshot, changes may have been missed. */
  opened(): void;
  /**
   * The socket dropped, or an attempt to open it failed (also the first: behind a proxy that
   * does not pass WebSockets it never opens): say "reconnecting" until it is open.
   */
  closed(): void;
  change(change: IChange): void;
}

/**
 * The monitor's pushed changes, from jupyter_server's event bus (`api/events/subscribe`).
 *
 * JupyterLab's own `serviceManager.events` carries the same events but does not tell when its
 * socket drops or comes back, and the store must know both: to say "reconnecting" instead of
 * showing old numbers as live, and to reload the snapshot after a gap. So this keeps its own
 * socket, with the same authentication, and reconnects with a capped backoff.
 */
export class PushChannel {
  constructor(
    private readonly _handlers: IPushHandlers,
    private readonly _settings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {}

  start(): void {
    this._stopped = false;
    this._connect();
  }

  /** Reconnect at once (the tab became visible, the user pressed Retry). */
  reconnectNow(): void {
    if (this._open || this._stopped) {
      return;
    }
    if (this._retry !== null) {
      clearTimeout(this._retry);
      this._retry = null;
    }
    this._delay = 500;
    if (this._socket === null) {
      this._connect();
    }
  }

  dispose(): void {
    this._stopped = true;
    if (this._retry !== null) {
      clearTimeout(this._retry);
    }
    const socket = this._socket;
    this._socket = null;
    if (socket) {
      socket.onclose = null;
      socket.close();
    }
  }

  private _connect(): void {
    const { appendToken, token, WebSocket, wsUrl } = this._settings;
    let url = URLExt.join(wsUrl, 'api/events/subscribe');
    if (appendToken && token !== '') {
      url += `?token=${encodeURIComponent(token)}`;
    }
    const socket = new WebSocket(url);
    this._socket = socket;
    socket.onopen = () => {
      this._open = true;
      this._delay = 500;
      this._handlers.opened();
    };
    socket.onmessage = message => {
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(String(message.data));
      } catch {
        return;
      }
      if (event.schema_id === CHANGES_SCHEMA_ID) {
        // jupyter_server sends the event's fields next to its metadata.
        this._handlers.change({
          version: event.version as number,
          kind: event.kind as IChange['kind'],
          session_id: event.session_id as string,
          session: (event.session ?? null) as IChange['session'],
          polled: (event.polled ?? null) as IChange['polled'],
          money: (event.money ?? null) as IChange['money']
        });
      }
    };
    socket.onclose = () => {
      this._open = false;
      this._socket = null;
      if (this._stopped) {
        return;
      }
      this._handlers.closed();
      this._retry = setTimeout(() => {
        this._retry = null;
        this._connect();
      }, this._delay);
      this._delay = Math.min(this._delay * 2, 10_000);
    };
  }

  private _socket: WebSocket | null = null;
  private _open = false;
  private _stopped = true;
  private _delay = 500;
  private _retry: ReturnType<typeof setTimeout> | null = null;
}
