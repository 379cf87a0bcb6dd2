import {
  Dialog,
  Notification,
  ReactWidget,
  showDialog
} from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';

import * as React from 'react';

import { MonitorRequestError } from './api';
import { LiveConsequence } from './components/LiveConsequence';
import type { MonitorModel } from './model';
import { SessionAction, shortId } from './present';
import type { IJobView, ISessionView } from './sessionStore';

/**
 * Close, Cancel and job Cancel as the user sees them: a confirmation that states the
 * consequence with numbers, a busy state while the request is in flight, and a notification
 * saying what to do when it fails. Shared by the sidebar, notifications and notebook widgets.
 */
export class SessionActions {
  constructor(
    private readonly _model: MonitorModel,
    private readonly _trans: TranslationBundle
  ) {}

  /** Session or job ids with a request in flight. */
  busy(id: string): boolean {
    return this._busy.has(id);
  }

  get busyChanged(): ISignal<this, void> {
    return this._busyChanged;
  }

  /** Ask, then close or cancel; resolves true when the server accepted it. */
  async confirmSessionAction(
    view: ISessionView,
    action: SessionAction
  ): Promise<boolean> {
    const trans = this._trans;
    // The sentence asks the service at once and follows every change while the dialog is open:
    // what the user confirms is what was true when they confirmed.
    const body = ReactWidget.create(
      React.createElement(LiveConsequence, {
        model: this._model,
        sessionId: view.id,
        action,
        trans
      })
    );
    const title =
      action === 'close'
        ? trans.__('Close session %1?', shortId(view.id))
        : trans.__('Cancel session %1?', shortId(view.id));
    const result = await showDialog({
      title,
      body,
      buttons: [
        Dialog.cancelButton({ label: trans.__('Keep it') }),
        Dialog.warnButton({
          label:
            action === 'close'
              ? trans.__('Close session')
              : trans.__('Cancel session')
        })
      ]
    });
    if (!result.button.accept) {
      return false;
    }
    return this._run(view.id, () => this._model.act(view.id, action), {
      failure:
        action === 'close'
          ? trans.__('Could not close session %1', shortId(view.id))
          : trans.__('Could not cancel session %1', shortId(view.id))
    });
  }

  /** Stop tracking a session the service no longer knows (nothing to close or bill). */
  async forget(view: ISessionView): Promise<boolean> {
    return this._run(view.id, () => this._model.forget(view.id), {
      failure: this._trans.__('Could not forget session %1', shortId(view.id))
    });
  }

  async confirmJobCancel(job: IJobView): Promise<boolean> {
    const trans = this._trans;
    const result = await showDialog({
      title: trans.__('Cancel job %1?', shortId(job.id)),
      body:
        job.status === 'RUNNING'
          ? trans.__(
              'The running job stops; the time it has used is still billed.'
            )
          : trans.__('The queued job will not run.'),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Keep it') }),
        Dialog.warnButton({ label: trans.__('Cancel job') })
      ]
    });
    if (!result.button.accept) {
      return false;
    }
    return this._run(job.id, () => this._model.cancelJob(job.id), {
      failure: trans.__('Could not cancel job %1', shortId(job.id))
    });
  }

  private async _run(
    id: string,
    request: () => Promise<void>,
    words: { failure: string }
  ): Promise<boolean> {
    this._busy.add(id);
    this._busyChanged.emit();
    try {
      await request();
      return true;
    } catch (error) {
      const message =
        error instanceof MonitorRequestError ? error.message : String(error);
      Notification.error(`${words.failure}: ${message}`, {
        autoClose: false
      });
      return false;
    } finally {
      this._busy.delete(id);
      this._busyChanged.emit();
    }
  }

  private _busy = new Set<string>();
  private _busyChanged = new Signal<this, void>(this);
}
