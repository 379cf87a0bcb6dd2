import { LabIcon } from '@jupyterlab/ui-components';

import monitorSvgstr from '../style/icons/session-monitor.svg';

/** The Session Monitor's sidebar and palette icon (a stopwatch: sessions bill wall-clock time). */
export const sessionMonitorIcon = new LabIcon({
  name: 'jupyter-session-monitor:icon',
  svgstr: monitorSvgstr
});
