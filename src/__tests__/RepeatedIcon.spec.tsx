import { LabIcon, copyIcon, stopIcon } from '@jupyterlab/ui-components';
import * as React from 'react';
import { describe, expect, it } from 'vitest';

import { RepeatedIcon } from '../components/RepeatedIcon';
import { render } from './render';

describe('RepeatedIcon', () => {
  it("shows the icon's SVG with the classes LabIcon gives it, in every copy", () => {
    const expected = copyIcon.element({ tag: 'span', elementSize: 'small' });
    const { container } = render(
      <>
        <RepeatedIcon icon={copyIcon} />
        <RepeatedIcon icon={copyIcon} />
        <RepeatedIcon icon={stopIcon} />
      </>
    );
    const spans = [...container.children] as HTMLElement[];
    expect(spans).toHaveLength(3);
    for (const span of spans.slice(0, 2)) {
      expect(span.className).toBe(expected.className);
      expect(span.innerHTML).toBe(expected.innerHTML);
    }
    // Each its own element, not one node moved from button to button.
    expect(spans[0].firstChild).not.toBe(spans[1].firstChild);
    expect(spans[2].querySelector('svg')).not.toBeNull();
    expect(spans[2].innerHTML).not.toBe(spans[0].innerHTML);
  });

  it('shows an icon replaced later (a theme override) in buttons mounted after that', () => {
    const svg = (d: string) =>
      `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><path d="${d}"/></svg>`;
    const icon = new LabIcon({
      name: 'jupyter-session-monitor-test:replaced',
      svgstr: svg('M0 0h8v8H0z')
    });
    const before = render(<RepeatedIcon icon={icon} />).container;
    expect(before.querySelector('path')?.getAttribute('d')).toBe('M0 0h8v8H0z');

    icon.svgstr = svg('M8 8h8v8H8z');

    const after = render(<RepeatedIcon icon={icon} />).container;
    expect(after.querySelector('path')?.getAttribute('d')).toBe('M8 8h8v8H8z');
  });
});
