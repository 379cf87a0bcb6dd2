// jsdom has no DragEvent; @lumino/dragdrop (imported by JupyterLab packages) extends it at load time.
if (typeof globalThis.DragEvent === 'undefined') {
  class DragEvent extends MouseEvent {}
  (globalThis as unknown as { DragEvent: typeof MouseEvent }).DragEvent =
    DragEvent;
}

// Tells React 18 that the tests wrap updates in act().
(
  globalThis as unknown as { IS_REACT_ACT_ENVIRONMENT: boolean }
).IS_REACT_ACT_ENVIRONMENT = true;

// jsdom has no matchMedia; JupyterLab's web components ask it for the colour scheme at load time.
if (typeof window !== 'undefined' && !window.matchMedia) {
  window.matchMedia = (query: string) =>
    ({
      matches: false,
      media: query,
      onchange: null,
      addListener: () => undefined,
      removeListener: () => undefined,
      addEventListener: () => undefined,
      removeEventListener: () => undefined,
      dispatchEvent: () => false
    }) as MediaQueryList;
}
