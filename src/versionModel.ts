import { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

import { IVersionInfo, MonitorRequestError, requestAPI } from './api';

/** What the panel knows about the server side: still asking, an answer, or why there is none. */
export type VersionState =
  | { readonly status: 'loading' }
  | { readonly status: 'ready'; readonly info: IVersionInfo }
  | { readonly status: 'error'; readonly error: MonitorRequestError };

/** Fetches `GET version` and tells listeners when the answer changes. */
export class VersionModel {
  constructor(private readonly _settings?: ServerConnection.ISettings) {}

  get state(): VersionState {
    return this._state;
  }

  get stateChanged(): ISignal<this, VersionState> {
    return this._stateChanged;
  }

  /** Ask the server again; resolves once the new state is set (it never rejects). */
  async refresh(): Promise<void> {
    this._setState({ status: 'loading' });
    try {
      const info = await requestAPI<IVersionInfo>(
        'version',
        {},
        this._settings
      );
      this._setState({ status: 'ready', info });
    } catch (error) {
      const failure =
        error instanceof MonitorRequestError
          ? error
          : new MonitorRequestError('unexpected', String(error), null);
      this._setState({ status: 'error', error: failure });
    }
  }

  private _setState(state: VersionState): void {
    this._state = state;
    this._stateChanged.emit(state);
  }

  private _state: VersionState = { status: 'loading' };
  private _stateChanged = new Signal<this, VersionState>(this);
}
