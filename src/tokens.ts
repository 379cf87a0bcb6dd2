import type { TranslationBundle } from '@jupyterlab/translation';
import { Token } from '@lumino/coreutils';

import type { SessionActions } from './actions';
import type { MonitorModel } from './store/model';

/** The page's session monitor, for other plugins (the notebook widget's view). */
export interface ISessionMonitor {
  model: MonitorModel;
  actions: SessionActions;
  trans: TranslationBundle;
  /** Open the sidebar on a session. */
  reveal(sessionId: string): void;
}

export const ISessionMonitor = new Token<ISessionMonitor>(
  'jupyter-session-monitor:ISessionMonitor',
  'The page store of Qiskit Runtime sessions, with its actions.'
);
