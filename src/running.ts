/**
 * The open sessions as a section of JupyterLab's (and Notebook 7's) Running panel, beside
 * kernels and terminals: clicking one shows it in the sidebar, its shut-down button asks before
 * closing it, and "shut down all" is the sidebar's Close all (which lists every session's queued
 * and running jobs before anything is closed).
 */
import type { IRunningSessions } from '@jupyterlab/running';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';

import { sessionMonitorIcon } from './icons';
import type { MonitorModel } from './store/model';
import {
  clockTime,
  modeText,
  notebookName,
  pendingJobs,
  shortId
} from './present';
import type { ISessionView } from './store/sessionStore';

export interface IRunningCallbacks {
  reveal(id: string): void;
  close(id: string): void;
  closeAll(): void;
}

/** What one row says; a change in any of these re-renders the section. */
export function runningLabel(
  view: ISessionView,
  trans: TranslationBundle
): { label: string; title: string; detail: string } {
  const where = view.notebook_path
    ? notebookName(view.notebook_path)
    : trans.__('not from a notebook here');
  const { queued, running } = pendingJobs(view);
  const detail = [view.status, view.backend ?? '']
    .filter(part => part)
    .join(' · ');
  const title = [
    trans.__('Session %1', view.id),
    trans.__('Mode: %1', modeText(view, trans)),
    trans.__('Backend: %1', view.backend ?? trans.__('unknown')),
    trans.__('Status: %1', view.status),
    trans.__('Notebook: %1', view.notebook_path ?? trans.__('none')),
    trans.__('Jobs: %1 queued, %2 running', queued, running),
    // How fresh these words are: the service's answer at the monitor's last read.
    view.stale
      ? trans.__(
          'Last read from the service at %1; reading it again failed since',
          clockTime(view.last_polled_at)
        )
      : trans.__('Read from the service at %1', clockTime(view.last_polled_at))
  ].join('\n');
  return { label: `${where} · ${shortId(view.id)}`, title, detail };
}

export class RunningQiskitSessions implements IRunningSessions.IManager {
  constructor(
    private readonly _model: MonitorModel,
    private readonly _trans: TranslationBundle,
    private readonly _callbacks: IRunningCallbacks
  ) {
    this.name = _trans.__('Qiskit Runtime sessions');
    this.shutdownLabel = _trans.__('Close…');
    this.shutdownAllLabel = _trans.__('Close All');
    _model.store.changed.connect(this._onStoreChanged, this);
  }

  readonly name: string;
  readonly shutdownLabel: string;
  readonly shutdownAllLabel: string;

  shutdownAllConfirmationText = (): string => {
    const open = this._open().length;
    return this._trans._n(
      'Next, the monitor reads the open session’s queued and running jobs from the service and lists them before anything is closed.',
      'Next, the monitor reads the %1 open sessions’ queued and running jobs from the service and lists them before anything is closed.',
      open
    );
  };

  get runningChanged(): ISignal<this, void> {
    return this._runningChanged;
  }

  running(): IRunningSessions.IRunningItem[] {
    return this._open().map(view => {
      const id = view.id;
      const current = () => this._model.get(id) ?? view;
      return {
        className: 'jp-SessionMonitor-runningItem',
        context: id,
        icon: () => sessionMonitorIcon,
        label: () => runningLabel(current(), this._trans).label,
        labelTitle: () => runningLabel(current(), this._trans).title,
        detail: () => runningLabel(current(), this._trans).detail,
        open: () => this._callbacks.reveal(id),
        shutdown: () => this._callbacks.close(id)
      };
    });
  }

  shutdownAll(): void {
    this._callbacks.closeAll();
  }

  refreshRunning(): void {
    void this._model.refresh();
  }

  dispose(): void {
    this._model.store.changed.disconnect(this._onStoreChanged, this);
    this._unsubscribe?.();
    this._unsubscribe = null;
  }

  private _open(): readonly ISessionView[] {
    return this._model.store.open;
  }

  /**
   * Re-render the section when what it shows changed, and once a second while sessions are open:
   * the panel renders a section only while it is visible, and keeps the list it had when it was
   * hidden, so a change made while the tab was not shown would otherwise wait for the next one.
   * (A hidden section ignores the signal.)
   */
  private _onStoreChanged(): void {
    const open = this._open();
    if (open.length && !this._unsubscribe) {
      this._unsubscribe = this._model.ticker.subscribe(() =>
        this._runningChanged.emit()
      );
    } else if (!open.length && this._unsubscribe) {
      this._unsubscribe();
      this._unsubscribe = null;
    }
    const key = open
      .map(view => {
        const shown = runningLabel(view, this._trans);
        return `${shown.label}\u0000${shown.title}\u0000${shown.detail}`;
      })
      .join('\u0001');
    if (key !== this._lastKey) {
      this._lastKey = key;
      this._runningChanged.emit();
    }
  }

  private _lastKey = '';
  private _unsubscribe: (() => void) | null = null;
  private readonly _runningChanged = new Signal<this, void>(this);
}
