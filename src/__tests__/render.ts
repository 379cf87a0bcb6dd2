import * as React from 'react';
import { act } from 'react';
import { createRoot, Root } from 'react-dom/client';

/** Render an element into a fresh container attached to the document, synchronously. */
export function render(element: React.ReactElement): {
  container: HTMLElement;
  root: Root;
} {
  const container = document.createElement('div');
  document.body.appendChild(container);
  const root = createRoot(container);
  act(() => root.render(element));
  return { container, root };
}
