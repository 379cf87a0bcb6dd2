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
