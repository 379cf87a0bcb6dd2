import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import type { VersionState } from '../versionModel';

/** A package's name: not translated. */
const RUNTIME_PACKAGE = 'qiskit-ibm-runtime';

export interface IVersionViewProps {
  state: VersionState;
  trans: TranslationBundle;
  onRetry: () => void;
}

/**
 * What is installed on the server (the sidebar's footer), or, when the server cannot answer,
 * that fact in words with a way to try again.
 */
export function VersionView({
  state,
  trans,
  onRetry
}: IVersionViewProps): JSX.Element {
  return (
    <div className="jp-SessionMonitor-about">
      {state.status === 'loading' && (
        <p className="jp-SessionMonitor-loading" role="status">
          {trans.__('Contacting the Jupyter server…')}
        </p>
      )}
      {state.status === 'ready' && (
        <dl
          className="jp-SessionMonitor-versions"
          aria-label={trans.__('Installed versions')}
        >
          <dt>{trans.__('Session Monitor')}</dt>
          <dd data-testid="monitor-version">{state.info.version}</dd>
          <dt>{RUNTIME_PACKAGE}</dt>
          <dd data-testid="runtime-version">
            {state.info.qiskit_ibm_runtime_version ??
              trans.__('not installed on the server')}
          </dd>
        </dl>
      )}
      {state.status === 'error' && (
        <div className="jp-SessionMonitor-error" role="alert">
          <p>
            <strong>{trans.__('The session monitor is not available.')}</strong>{' '}
            {state.error.message}
          </p>
          <button
            type="button"
            className="jp-mod-styled jp-mod-accept"
            onClick={onRetry}
          >
            {trans.__('Retry')}
          </button>
        </div>
      )}
    </div>
  );
}
