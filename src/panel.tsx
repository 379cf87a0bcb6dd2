import { ReactWidget } from '@jupyterlab/apputils';
import type { Message } from '@lumino/messaging';
import type { IStateDB } from '@jupyterlab/statedb';
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import type { SessionActions } from './actions';
import { SessionList } from './components/list';
import { VersionView } from './components/VersionView';
import type { MonitorModel } from './store/model';
import { VersionModel } from './versionModel';

/** The left-sidebar panel: the session list, with what is installed in its footer. */
export class SessionMonitorPanel extends ReactWidget {
  constructor(
    private readonly _model: MonitorModel,
    private readonly _actions: SessionActions,
    private readonly _versions: VersionModel,
    private readonly _trans: TranslationBundle,
    private readonly _openNotebook: (path: string) => void,
    private readonly _state: IStateDB | null = null
  ) {
    super();
    this.addClass('jp-SessionMonitor');
    // A landmark of its own (JupyterLab's side area is none); the header and footer inside it are
    // plain blocks, not the page's banner and contentinfo landmarks.
    this.node.setAttribute('role', 'region');
    this.node.tabIndex = -1; // focusable when activated, before its fields have rendered
    this.node.setAttribute('aria-label', _trans.__('Qiskit Runtime sessions'));
    // The store reloads by itself after a failure; the footer, once it failed too, follows it.
    _model.store.changed.connect(() => {
      if (
        _model.store.connection === 'live' &&
        _versions.state.status === 'error'
      ) {
        void _versions.refresh();
      }
    }, this);
  }

  /**
   * Activated (the command, the palette, its tab): focus goes into the panel, to its first
   * field (the filter or the "track by id" box), unless it is there already. From the palette
   * it stayed in the notebook, 17 Tabs away.
   */
  protected onActivateRequest(msg: Message): void {
    super.onActivateRequest(msg);
    // Shown for the first time, React renders on the next frame: focus once it has.
    const focus = (tries: number) => {
      if (this.node.contains(document.activeElement) || !this.isVisible) {
        return;
      }
      const field = this.node.querySelector<HTMLElement>('input');
      if (field) {
        field.focus();
      } else if (tries > 0) {
        requestAnimationFrame(() => focus(tries - 1));
      } else {
        this.node.focus();
      }
    };
    focus(10);
  }

  render(): JSX.Element {
    const trans = this._trans;
    const footer = (
      <div className="jp-SessionMonitor-footer">
        <VersionFooter versions={this._versions} trans={trans} />
      </div>
    );
    return (
      <>
        <div className="jp-SessionMonitor-header">
          <h2>{trans.__('Qiskit Runtime sessions')}</h2>
        </div>
        <SessionList
          model={this._model}
          actions={this._actions}
          trans={trans}
          openNotebook={this._openNotebook}
          footer={footer}
          onRetry={() => void this._versions.refresh()}
          state={this._state}
        />
      </>
    );
  }
}

/** What is installed, once the server has said; nothing while it has not. */
function VersionFooter(props: {
  versions: VersionModel;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { versions, trans } = props;
  const [state, setState] = React.useState(versions.state);
  React.useEffect(() => {
    // Mounted again after an error: catch up with what happened meanwhile.
    setState(versions.state);
    const changed = () => setState(versions.state);
    versions.stateChanged.connect(changed);
    return () => void versions.stateChanged.disconnect(changed);
  }, [versions]);
  return state.status === 'ready' ? (
    <VersionView
      state={state}
      trans={trans}
      onRetry={() => void versions.refresh()}
    />
  ) : null;
}
