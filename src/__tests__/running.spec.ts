import { nullTranslator } from '@jupyterlab/translation';
import { Signal } from '@lumino/signaling';
import { describe, expect, it } from 'vitest';

import type { MonitorModel } from '../store/model';
import { isOpen } from '../present';
import { RunningQiskitSessions, runningLabel } from '../running';
import type { ISessionView } from '../store/sessionStore';
import { Ticker } from '../ticker';
import { job, sessionView, withJobs } from './fixtures';

const trans = nullTranslator.load('jupyter_session_monitor');

/** The parts of the model the Running panel section reads. */
function fakeModel(views: ISessionView[]) {
  const sessions = new Map(views.map(view => [view.id, view]));
  const changed = new Signal<unknown, void>({});
  const model = {
    store: {
      sessions,
      changed,
      // As the real store lists them, from the map the test changes.
      get open() {
        return [...sessions.values()].filter(isOpen);
      }
    },
    ticker: new Ticker(),
    get: (id: string) => sessions.get(id),
    refresh: async () => undefined
  };
  return {
    model: model as unknown as MonitorModel,
    sessions,
    emit: () => changed.emit()
  };
}

describe('runningLabel', () => {
  it('names the notebook and the short id, and says the jobs still to run', () => {
    const view = sessionView({
      ...withJobs([job('j1', 'QUEUED'), job('j2', 'RUNNING')])
    });
    const shown = runningLabel(view, trans);
    expect(shown.label).toBe('vqe.ipynb · a11199df');
    expect(shown.detail).toBe('In progress, accepting new jobs · ibm_torino');
    expect(shown.title).toContain('Jobs: 1 queued, 1 running');
    expect(shown.title).toContain('Notebook: chemistry/vqe.ipynb');
    expect(shown.title).toMatch(/\nRead from the service at \S/);
    const stale = runningLabel({ ...view, stale: true }, trans).title;
    expect(stale).toMatch(/reading it again failed since/);
  });

  it('says when a session was not opened from a notebook here', () => {
    const view = sessionView({ notebook_path: null });
    expect(runningLabel(view, trans).label).toMatch(/^not from a notebook/);
  });
});

describe('RunningQiskitSessions', () => {
  it('lists only open sessions; open and shut down reach the sidebar and Close', () => {
    const revealed: string[] = [];
    const closed: string[] = [];
    let closeAll = 0;
    const { model } = fakeModel([
      sessionView({ id: 'open1' }),
      sessionView({ id: 'gone1', state: 'closed', status: 'Closed' }),
      sessionView({ id: 'lost1', not_found: true })
    ]);
    const manager = new RunningQiskitSessions(model, trans, {
      reveal: id => revealed.push(id),
      close: id => closed.push(id),
      closeAll: () => (closeAll += 1)
    });
    const items = manager.running();
    expect(items.map(item => item.context)).toEqual(['open1']);
    items[0].open?.();
    items[0].shutdown?.();
    manager.shutdownAll();
    expect(revealed).toEqual(['open1']);
    expect(closed).toEqual(['open1']);
    expect(closeAll).toBe(1);
    expect(manager.shutdownAllConfirmationText()).toMatch(
      /reads the open session’s queued and running jobs/
    );
    manager.dispose();
  });

  it('says it changed when what it shows changed, not on every store change', () => {
    const { model, sessions, emit } = fakeModel([sessionView({ id: 's1' })]);
    const manager = new RunningQiskitSessions(model, trans, {
      reveal: () => undefined,
      close: () => undefined,
      closeAll: () => undefined
    });
    let changes = 0;
    manager.runningChanged.connect(() => (changes += 1));
    emit();
    expect(changes).toBe(1);
    emit(); // same sessions, same words
    expect(changes).toBe(1);
    sessions.set(
      's1',
      sessionView({ id: 's1', status: 'Closed', state: 'closed' })
    );
    emit();
    expect(changes).toBe(2);
    expect(manager.running()).toEqual([]);
    manager.dispose();
  });
});
