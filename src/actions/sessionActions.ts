import {
  Dialog,
  Notification,
  ReactWidget,
  showDialog
} from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';
import * as React from 'react';
import { Widget } from '@lumino/widgets';
import { MonitorRequestError } from '../api';
import { CloseAllConsequence } from '../components/CloseAll';
import { LiveConsequence } from '../components/LiveConsequence';
import type { IReceiptAnswer, MonitorModel } from '../store/model';
import type { NotebookCells } from '../notebookCells';
import { notebookName, SessionAction, shortId } from '../present';
import type { IJobView, ISessionView } from '../store/sessionStore';
import { BudgetForm, IBudgetChoice, RateForm } from './forms';

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

  /** Where notebooks' cells are reached (set by the plugin; absent in tests). */
  notebooks: NotebookCells | null = null;

  /** Open the notebook at the cell that opened the session (or submitted the job). */
  async goToCell(view: ISessionView, job?: IJobView): Promise<boolean> {
    const trans = this._trans;
    const cell = job?.cell ?? view.cell;
    if (!view.notebook_path || !cell || !this.notebooks) {
      return false;
    }
    const found = await this.notebooks.show(view.notebook_path, cell);
    if (!found) {
      Notification.warning(
        trans.__(
          'The cell is no longer in %1 (edited or deleted since).',
          notebookName(view.notebook_path)
        ),
        { autoClose: 8000 }
      );
    }
    return found;
  }

  /** The session's receipt: shown, copied, or inserted after the cell that opened it. */
  async showReceipt(view: ISessionView): Promise<boolean> {
    const trans = this._trans;
    let answer: IReceiptAnswer;
    try {
      answer = await this._model.fetchReceipt(view.id);
    } catch (error) {
      Notification.error(
        trans.__('Could not get the receipt: %1', (error as Error).message),
        { autoClose: false }
      );
      return false;
    }
    const body = new Widget();
    const text = document.createElement('pre');
    text.className = 'jp-SessionMonitor-receipt';
    text.dataset.testid = 'receipt-text';
    text.textContent = answer.text; // text, never HTML: tags are the user's strings
    body.node.appendChild(text);
    const canInsert = Boolean(
      view.notebook_path && view.cell && this.notebooks
    );
    const buttons = [
      Dialog.cancelButton({ label: trans.__('Close') }),
      Dialog.okButton({ label: trans.__('Copy'), actions: ['copy'] })
    ];
    if (canInsert) {
      buttons.push(
        Dialog.okButton({
          label: trans.__('Insert after its cell'),
          caption: trans.__(
            'Add the receipt as a Markdown cell after the cell that opened the session'
          ),
          actions: ['insert']
        })
      );
    }
    const result = await showDialog({
      title: answer.receipt.final
        ? trans.__('Receipt for session %1', shortId(view.id))
        : trans.__('Receipt so far for session %1', shortId(view.id)),
      body,
      buttons
    });
    if (result.button.actions.includes('copy')) {
      await navigator.clipboard?.writeText(answer.text);
      return true;
    }
    if (result.button.actions.includes('insert') && this.notebooks) {
      const inserted = await this.notebooks.insertMarkdownAfter(
        view.notebook_path!,
        view.cell!,
        answer.markdown
      );
      if (!inserted) {
        Notification.warning(
          trans.__(
            'The cell that opened the session is no longer in %1; the receipt was not inserted.',
            notebookName(view.notebook_path!)
          ),
          { autoClose: 8000 }
        );
      }
      return inserted;
    }
    return false;
  }

  /** Save the registry's sessions as a CSV file. */
  async downloadHistory(): Promise<void> {
    try {
      const csv = await this._model.fetchHistoryCsv();
      const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
      const link = document.createElement('a');
      link.href = url;
      link.download = 'qiskit-runtime-sessions.csv';
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (error) {
      Notification.error(
        this._trans.__(
          'Could not export the history: %1',
          (error as Error).message
        ),
        { autoClose: false }
      );
    }
  }

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
      ],
      // The safe choice has the focus (WAI-ARIA's alert dialog): Enter keeps the session.
      defaultButton: 0
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

  /** The "Budget…" dialog: set, change or remove the session's (or its notebook's) budget. */
  async editBudget(view: ISessionView): Promise<boolean> {
    const trans = this._trans;
    const money = this._model.store.money;
    const form = new BudgetForm(
      view,
      money.rate.rate_per_second !== null,
      money.rate.currency,
      trans
    );
    const buttons = [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({ label: trans.__('Set budget') })
    ];
    if (view.budget) {
      buttons.splice(
        1,
        0,
        Dialog.warnButton({
          label: trans.__('Remove budget'),
          actions: ['remove']
        })
      );
    }
    const result = await showDialog({
      title: trans.__('Budget for session %1', shortId(view.id)),
      body: form,
      buttons
    });
    if (!result.button.accept) {
      return false;
    }
    if (result.button.actions.includes('remove') && view.budget) {
      const budget = view.budget;
      return this._run(
        view.id,
        () => this._model.removeBudget(budget.scope, budget.target),
        { failure: trans.__('Could not remove the budget') }
      );
    }
    const choice = result.value as IBudgetChoice | null;
    if (!choice || choice.error || !choice.body) {
      Notification.error(choice?.error ?? trans.__('The budget was not set.'), {
        autoClose: 8000
      });
      return false;
    }
    const target =
      choice.scope === 'notebook' ? (view.notebook_path ?? view.id) : view.id;
    return this._run(
      view.id,
      () => this._model.setBudget(choice.scope, target, choice.body!),
      { failure: trans.__('Could not set the budget') }
    );
  }

  /** The rate per billed second (kept by the server). */
  async editRate(): Promise<boolean> {
    const trans = this._trans;
    const rate = this._model.store.money.rate;
    const result = await showDialog({
      title: trans.__('Rate per billed second'),
      body: new RateForm(rate.rate_per_second, rate.currency, trans),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.okButton({ label: trans.__('Save') })
      ]
    });
    if (!result.button.accept) {
      return false;
    }
    const value = result.value as {
      rate: number | null;
      currency: string | null;
    } | null;
    if (!value) {
      Notification.error(trans.__('The rate must be a number of at least 0.'), {
        autoClose: 8000
      });
      return false;
    }
    return this._run(
      'billing',
      () => this._model.setRate(value.rate, value.currency),
      { failure: trans.__('Could not save the rate') }
    );
  }

  /**
   * Close every open session this server monitors, after one confirmation that lists what will
   * happen, read from the service when the dialog opens and kept current while it is open.
   */
  async confirmCloseAll(): Promise<boolean> {
    const trans = this._trans;
    const body = ReactWidget.create(
      React.createElement(CloseAllConsequence, { model: this._model, trans })
    );
    const result = await showDialog({
      title: trans.__('Close all open sessions?'),
      body,
      buttons: [
        Dialog.cancelButton({ label: trans.__('Keep them') }),
        Dialog.warnButton({ label: trans.__('Close all') })
      ],
      defaultButton: 0
    });
    if (!result.button.accept) {
      return false;
    }
    this._busy.add('close-all');
    this._busyChanged.emit();
    try {
      // What the dialog listed when the user confirmed: the open sessions of the store.
      const listed = this._model.store.open.map(view => view.id);
      const outcome = await this._model.closeAll('close', listed);
      if (outcome.failed.length) {
        Notification.error(
          closeAllFailedText(
            outcome.closed.length,
            outcome.failed.map(f => `${shortId(f.id)}: ${f.message}`),
            trans
          ),
          { autoClose: false }
        );
      } else {
        Notification.success(
          trans._n(
            'Asked the service to close %1 session; queued jobs still run.',
            'Asked the service to close %1 sessions; queued jobs still run.',
            outcome.closed.length
          ),
          { autoClose: 8000 }
        );
      }
      return outcome.failed.length === 0;
    } catch (error) {
      const message =
        error instanceof MonitorRequestError ? error.message : String(error);
      Notification.error(
        trans.__('Could not close the sessions: %1', message),
        {
          autoClose: false
        }
      );
      return false;
    } finally {
      this._busy.delete('close-all');
      this._busyChanged.emit();
    }
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
      ],
      defaultButton: 0
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

/** "Closed 1 session; could not close 2: …", in the plural form of the count closed. */
export function closeAllFailedText(
  closed: number,
  failures: string[],
  trans: TranslationBundle
): string {
  return trans._n(
    'Closed %1 session; could not close %2: %3',
    'Closed %1 sessions; could not close %2: %3',
    closed,
    failures.length,
    failures.join('; ')
  );
}
