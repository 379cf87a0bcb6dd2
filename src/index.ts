import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { sessionMonitorIcon } from './icons';
import { SessionMonitorPanel } from './panel';
import { VersionModel } from './versionModel';

const PLUGIN_ID = 'jupyter-session-monitor:plugin';

/** Command ids, for the palette, keyboard shortcuts and other extensions. */
export namespace CommandIDs {
  export const open = 'session-monitor:open';
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'A sidebar to see and control the Qiskit Runtime sessions your notebooks open.',
  autoStart: true,
  requires: [ILabShell],
  optional: [ICommandPalette, ILayoutRestorer, ISettingRegistry, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    labShell: ILabShell,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null
  ): void => {
    const trans = (translator ?? nullTranslator).load(
      'jupyter_session_monitor'
    );

    const model = new VersionModel();
    const panel = new SessionMonitorPanel(model, trans);
    panel.id = 'jp-session-monitor';
    panel.title.icon = sessionMonitorIcon;
    panel.title.caption = trans.__('Qiskit Session Monitor');
    labShell.add(panel, 'left', { rank: 600, type: 'Session Monitor' });
    restorer?.add(panel, 'jp-session-monitor');
    void model.refresh();

    app.commands.addCommand(CommandIDs.open, {
      label: trans.__('Open Qiskit Session Monitor'),
      caption: trans.__(
        'Show the sidebar of Qiskit Runtime sessions opened from notebooks'
      ),
      icon: args => (args['isPalette'] ? undefined : sessionMonitorIcon),
      execute: () => {
        labShell.activateById(panel.id);
      }
    });
    palette?.addItem({
      command: CommandIDs.open,
      category: trans.__('Qiskit')
    });

    settingRegistry?.load(PLUGIN_ID).catch(reason => {
      console.error(
        'jupyter-session-monitor: failed to load settings.',
        reason
      );
    });
  }
};

export default plugin;
