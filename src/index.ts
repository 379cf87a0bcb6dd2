import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB } from '@jupyterlab/statedb';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { IJupyterWidgetRegistry } from '@jupyter-widgets/base';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { IRunningSessionManagers } from '@jupyterlab/running';

// The sidebar, its model and the status-bar item are created at activation (the panel must be in
// the shell when the layout is restored): lazy imports would only move the same loading.
/* eslint-disable jupyter/prefer-lazy-imports */
import { SessionActions } from './actions';
import { sessionMonitorIcon } from './icons';
import { MonitorModel, settingsFrom } from './store/model';
import { setMoneyLanguage } from './money';
import { NotebookCells } from './notebookCells';
import { Notifier } from './notifier';
import { SessionMonitorPanel } from './panel';
import { RunningQiskitSessions } from './running';
import { SessionStatusItem } from './statusbar';
import { ISessionMonitor } from './tokens';
import { keptTranslations } from './translation';
import { VersionModel } from './versionModel';
import {
  registerSessionWidget,
  SESSION_OUTPUT_RANK,
  sessionOutputFactory
} from './widget';
/* eslint-enable jupyter/prefer-lazy-imports */

const PLUGIN_ID = 'jupyter-session-monitor:plugin';

/** Command ids, for the palette, keyboard shortcuts, notifications and other extensions. */
export namespace CommandIDs {
  export const open = 'jupyter-session-monitor:open';
  /** Args `{id}`: open the sidebar with that session expanded and focused. */
  export const show = 'jupyter-session-monitor:show';
  /** Args `{id}`: ask, then close the session. */
  export const close = 'jupyter-session-monitor:close';
  /** Args `{id}`: ask, then cancel the session. */
  export const cancel = 'jupyter-session-monitor:cancel';
}

const plugin: JupyterFrontEndPlugin<ISessionMonitor> = {
  id: PLUGIN_ID,
  description:
    'A sidebar to see and control the Qiskit Runtime sessions your notebooks open.',
  autoStart: true,
  provides: ISessionMonitor,
  // No shell is required: JupyterLab's and Notebook 7's both take a widget in their 'left' area
  // and expand it on activateById, so the sidebar works in either.
  optional: [
    ICommandPalette,
    ILayoutRestorer,
    ISettingRegistry,
    ITranslator,
    IStatusBar,
    IRunningSessionManagers,
    IStateDB
  ],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null,
    statusBar: IStatusBar | null,
    runningManagers: IRunningSessionManagers | null,
    state: IStateDB | null
  ): ISessionMonitor => {
    const trans = keptTranslations(
      (translator ?? nullTranslator).load('jupyter_session_monitor')
    );
    setMoneyLanguage(translator?.languageCode);
    const model = new MonitorModel(app.serviceManager.serverSettings);
    const actions = new SessionActions(model, trans);
    actions.notebooks = new NotebookCells(app);
    const versions = new VersionModel(app.serviceManager.serverSettings);

    const panel = new SessionMonitorPanel(
      model,
      actions,
      versions,
      trans,
      path => void app.commands.execute('docmanager:open', { path }),
      state
    );
    panel.id = 'jp-session-monitor';
    panel.title.icon = sessionMonitorIcon;
    panel.title.caption = trans.__('Qiskit Session Monitor');
    app.shell.add(panel, 'left', { rank: 600, type: 'Session Monitor' });
    restorer?.add(panel, 'jp-session-monitor');

    const sessionArg = (args: Record<string, unknown>) => String(args.id ?? '');
    const noArgs = { args: { type: 'object' as const, properties: {} } };
    const idArg = {
      args: {
        type: 'object' as const,
        properties: {
          id: {
            type: 'string' as const,
            description: trans.__('The Qiskit Runtime session id')
          }
        },
        required: ['id']
      }
    };
    app.commands.addCommand(CommandIDs.open, {
      label: trans.__('Open Qiskit Session Monitor'),
      describedBy: noArgs,
      caption: trans.__(
        'Show the sidebar of Qiskit Runtime sessions opened from notebooks'
      ),
      icon: args => (args['isPalette'] ? undefined : sessionMonitorIcon),
      execute: () => {
        app.shell.activateById(panel.id); // which moves focus into it
      }
    });
    app.commands.addCommand(CommandIDs.show, {
      label: trans.__('Show Session in the Sidebar'),
      describedBy: idArg,
      execute: args => {
        app.shell.activateById(panel.id);
        model.reveal(sessionArg(args));
      }
    });
    for (const action of ['close', 'cancel'] as const) {
      app.commands.addCommand(CommandIDs[action], {
        label:
          action === 'close'
            ? trans.__('Close Qiskit Session…')
            : trans.__('Cancel Qiskit Session…'),
        describedBy: idArg,
        isEnabled: args => model.get(sessionArg(args)) !== undefined,
        execute: async args => {
          const view = model.get(sessionArg(args));
          if (view) {
            await actions.confirmSessionAction(view, action);
          }
        }
      });
    }
    palette?.addItem({
      command: CommandIDs.open,
      category: trans.__('Qiskit')
    });

    new Notifier(model, trans, {
      close: id => void app.commands.execute(CommandIDs.close, { id }),
      reveal: id => void app.commands.execute(CommandIDs.show, { id })
    });

    if (statusBar) {
      const item = new SessionStatusItem(model, trans, () =>
        app.shell.activateById(panel.id)
      );
      statusBar.registerStatusItem('jupyter-session-monitor:status', {
        item,
        align: 'left',
        rank: 5,
        isActive: () => item.active,
        activeStateChanged: item.activeChanged
      });
    }

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          const apply = () => {
            model.settings = settingsFrom(settings.composite);
          };
          apply();
          settings.changed.connect(apply);
        })
        .catch(reason => {
          console.error(
            'jupyter-session-monitor: failed to load settings; using the defaults.',
            reason
          );
        });
    }

    if (runningManagers) {
      const running = new RunningQiskitSessions(model, trans, {
        reveal: id => void app.commands.execute(CommandIDs.show, { id }),
        close: id => void app.commands.execute(CommandIDs.close, { id }),
        closeAll: () => void actions.confirmCloseAll()
      });
      runningManagers.add(running);
    }

    model.start();
    void versions.refresh();
    return {
      model,
      actions,
      trans,
      reveal: id => void app.commands.execute(CommandIDs.show, { id })
    };
  }
};

/**
 * The kernel's `SessionWidget` in cell outputs: drawn from the session id in its output (so it
 * survives kernel restarts and page reloads), and as an ipywidgets view where it is a child of
 * another widget.
 */
const widgetPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-session-monitor:widget',
  description: 'Shows a live Qiskit Runtime session in notebook cell outputs.',
  autoStart: true,
  requires: [ISessionMonitor],
  optional: [IJupyterWidgetRegistry, IRenderMimeRegistry],
  activate: (
    _: JupyterFrontEnd,
    monitor: ISessionMonitor,
    registry: IJupyterWidgetRegistry | null,
    rendermime: IRenderMimeRegistry | null
  ): void => {
    if (registry) {
      registerSessionWidget(registry, monitor);
    }
    rendermime?.addFactory(sessionOutputFactory(monitor), SESSION_OUTPUT_RANK);
  }
};

export default [plugin, widgetPlugin];
