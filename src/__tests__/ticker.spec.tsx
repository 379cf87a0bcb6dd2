import * as React from 'react';
import { act } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { useOnScreen } from '../ticker';
import { render } from './render';

/** An IntersectionObserver the test drives: which elements are watched, and their callbacks. */
class FakeObserver {
  static all: FakeObserver[] = [];
  watched: Element[] = [];
  disconnected = false;
  constructor(readonly callback: IntersectionObserverCallback) {
    FakeObserver.all.push(this);
  }
  observe(element: Element): void {
    this.watched.push(element);
  }
  disconnect(): void {
    this.disconnected = true;
  }
  /** The browser says whether the watched element intersects the viewport. */
  report(isIntersecting: boolean): void {
    act(() =>
      this.callback(
        [{ isIntersecting } as IntersectionObserverEntry],
        this as unknown as IntersectionObserver
      )
    );
  }
}

function Probe(props: { show: boolean }): JSX.Element | null {
  const ref = React.useRef<HTMLDivElement>(null);
  const visible = useOnScreen(ref);
  return props.show ? <div ref={ref} data-visible={visible} /> : null;
}

describe('useOnScreen', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    FakeObserver.all = [];
  });

  it('watches an element that appears after the first render, and stops on unmount', () => {
    vi.stubGlobal('IntersectionObserver', FakeObserver);
    const { container, root } = render(<Probe show={false} />);
    expect(FakeObserver.all).toHaveLength(0);

    act(() => root.render(<Probe show={true} />));

    const div = container.querySelector('div')!;
    const live = FakeObserver.all.filter(o => !o.disconnected);
    expect(live).toHaveLength(1);
    expect(live[0].watched).toEqual([div]);
    live[0].report(false);
    expect(div.dataset.visible).toBe('false');
    live[0].report(true);
    expect(div.dataset.visible).toBe('true');

    act(() => root.unmount());
    expect(live[0].disconnected).toBe(true);
  });
});
