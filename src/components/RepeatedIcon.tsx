import type { LabIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

const templates = new Map<LabIcon, { svgstr: string; element: HTMLElement }>();

/**
 * A JupyterLab icon for buttons a page mounts by the hundred (each session's and each job's
 * copy button, each job's cancel button): a clone of one element the icon made
 * (`LabIcon.element`, with its theme classes), where `LabIcon.react` would parse the icon's SVG
 * markup and compute its style class on every mount and subscribe to the icon's changes on every
 * render. The clones carry the icon's id, so an icon replaced later (a theme's override) is
 * replaced in them by LabIcon itself, and later mounts clone the new one.
 */
export function RepeatedIcon(props: { icon: LabIcon }): JSX.Element {
  const { icon } = props;
  const ref = React.useRef<HTMLSpanElement>(null);
  React.useLayoutEffect(() => {
    let template = templates.get(icon);
    if (!template || template.svgstr !== icon.svgstr) {
      template = {
        svgstr: icon.svgstr,
        element: icon.element({ tag: 'span', elementSize: 'small' })
      };
      templates.set(icon, template);
    }
    const span = ref.current;
    if (span) {
      span.className = template.element.className;
      span.replaceChildren(
        ...[...template.element.childNodes].map(node => node.cloneNode(true))
      );
    }
  }, [icon]);
  return <span ref={ref} />;
}
