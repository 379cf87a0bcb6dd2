import {
  caretDownIcon,
  caretRightIcon,
  copyIcon,
  stopIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';
import { RepeatedIcon } from '../RepeatedIcon';

/**
 * The row's icons as elements made once: React skips an element it has already rendered, so a
 * row that renders again leaves its icons alone (a `LabIcon` re-subscribes to its icon's changes
 * on every render, which costs more the more icons the page holds). Copy and Cancel, on every
 * session and every job, and mounted whenever a job enters a job table's page, are clones
 * (`RepeatedIcon`).
 */
export const ICONS = {
  expanded: <caretDownIcon.react tag="span" elementSize="small" />,
  collapsed: <caretRightIcon.react tag="span" elementSize="small" />,
  copy: <RepeatedIcon icon={copyIcon} />,
  stop: <RepeatedIcon icon={stopIcon} />
};
