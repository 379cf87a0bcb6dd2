import type { ISignal } from '@lumino/signaling';
import * as React from 'react';

/** Re-render the calling component whenever `signal` fires; returns a count that changes. */
export function useSignalVersion(signal: ISignal<unknown, unknown>): number {
  const [version, setVersion] = React.useState(0);
  React.useEffect(() => {
    const changed = () => setVersion(v => v + 1);
    signal.connect(changed);
    return () => void signal.disconnect(changed);
  }, [signal]);
  return version;
}
