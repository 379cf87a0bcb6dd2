import { ReactWidget, UseSignal } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { VersionView } from './components/VersionView';
import { VersionModel, VersionState } from './versionModel';

/** The left-sidebar panel. For now it shows what is installed; the session list will replace it. */
export class SessionMonitorPanel extends ReactWidget {
  constructor(
    private readonly _model: VersionModel,
    private readonly _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-SessionMonitor');
  }

  render(): JSX.Element {
    return (
      <>
        <header className="jp-SessionMonitor-header">
          <h2>{this._trans.__('Qiskit Runtime sessions')}</h2>
        </header>
        <UseSignal
          signal={this._model.stateChanged}
          initialArgs={this._model.state}
        >
          {(_, state?: VersionState) => (
            <VersionView
              state={state ?? this._model.state}
              trans={this._trans}
              onRetry={() => void this._model.refresh()}
            />
          )}
        </UseSignal>
      </>
    );
  }
}
