import type { LabIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

const templates = new Map<LabIcon, HTMLElement>();

/**
 * A JupyterLab icon for buttons a page mounts by the hundred (each session's and each job's
 * copy button, each job's cancel button): a clone of one element the icon made
 * (`LabIcon.element`, with its theme classes), where `LabIcon.react` would parse the icon's SVG
 * markup and compute its style class on every mount and subscribe to the icon's changes on every
 * render. An icon replaced later (a theme's override) shows in the buttons mounted after that.
 */
export function RepeatedIcon(props: { icon: LabIcon }): JSX.Element {
  const { icon } = props;
  const ref = React.useRef<HTMLSpanElement>(null);
  React.useLayoutEffect(() => {
    let template = templates.get(icon);
    if (!template) {
      template = icon.element({ tag: 'span', elementSize: 'small' });
      templates.set(icon, template);
    }
    const span = ref.current;
    if (span) {
      span.className = template.className;
      span.replaceChildren(
        ...[...template.childNodes].map(node => node.cloneNode(true))
      );
    }
  }, [icon]);
  return <span ref={ref} />;
}
