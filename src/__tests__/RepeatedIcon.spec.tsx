import { copyIcon, stopIcon } from '@jupyterlab/ui-components';
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
});
