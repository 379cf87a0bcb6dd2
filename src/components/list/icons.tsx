import * as React from 'react';
import {
  addIcon,
  caretDownIcon,
  caretRightIcon
} from '@jupyterlab/ui-components';

// Icons as elements made once, so that a render of the list leaves them alone (see SessionRow).
export const CARET_RIGHT = (
  <caretRightIcon.react tag="span" elementSize="small" />
);
export const CARET_DOWN = (
  <caretDownIcon.react tag="span" elementSize="small" />
);
export const ADD_ICON = <addIcon.react tag="span" elementSize="normal" />;
