import { ISignal, Signal } from '@lumino/signaling';
import * as React from 'react';

/**
 * One shared 1 s clock for every countdown on the page, aligned to the wall clock's second so
 * all timers change together. It runs only while someone listens; a tick never touches the
 * network.
 */
export class Ticker {
  constructor(private readonly _now: () => number = Date.now) {
    this._last = _now();
  }

  get ticked(): ISignal<this, number> {
    return this._ticked;
  }

  /** Listen to the tick; returns the function that stops listening. */
  subscribe(listener: (now: number) => void): () => void {
    const slot = (_: unknown, now: number) => listener(now);
    this._ticked.connect(slot);
    this._listeners += 1;
    this._schedule();
    return () => {
      this._ticked.disconnect(slot);
      this._listeners -= 1;
      if (this._listeners === 0 && this._timer !== null) {
        clearTimeout(this._timer);
        this._timer = null;
      }
    };
  }

  dispose(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
    }
    this._timer = null;
    Signal.clearData(this);
  }

  private _schedule(): void {
    if (this._timer !== null || this._listeners === 0) {
      return;
    }
    const wait = 1000 - (this._now() % 1000) + 5;
    this._timer = setTimeout(() => {
      this._timer = null;
      this._last = this._now();
      this._ticked.emit(this._last);
      this._schedule();
    }, wait);
  }

  private _last: number;
  private _listeners = 0;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _ticked = new Signal<this, number>(this);
}

/**
 * The current time, re-rendering the calling component on every tick while `active` (pass
 * false for rows scrolled out of view or collapsed: they stop costing anything).
 */
export function useNow(ticker: Ticker, active = true): number {
  const [now, setNow] = React.useState(() => Date.now());
  React.useEffect(() => {
    if (!active) {
      return;
    }
    setNow(Date.now());
    return ticker.subscribe(setNow);
  }, [ticker, active]);
  return now;
}

/**
 * Whether an element is on screen (IntersectionObserver); true where it is unavailable. It
 * watches whatever element `ref` holds after each render: a component that renders nothing at
 * first (a billing line before the session is billed) is watched once its element appears.
 */
export function useOnScreen(ref: React.RefObject<Element>): boolean {
  const [visible, setVisible] = React.useState(true);
  const watched = React.useRef<{
    element: Element | null;
    observer: IntersectionObserver | null;
  }>({ element: null, observer: null });
  // After every render (a comparison, no extra render): watch the element the ref holds now.
  React.useEffect(() => {
    const element = ref.current;
    if (element === watched.current.element) {
      return;
    }
    watched.current.observer?.disconnect();
    watched.current = { element, observer: null };
    if (!element || typeof IntersectionObserver === 'undefined') {
      return;
    }
    const observer = new IntersectionObserver(entries => {
      setVisible(entries.some(entry => entry.isIntersecting));
    });
    observer.observe(element);
    watched.current.observer = observer;
  });
  React.useEffect(
    () => () => {
      watched.current.observer?.disconnect();
      watched.current = { element: null, observer: null };
    },
    []
  );
  return visible;
}
