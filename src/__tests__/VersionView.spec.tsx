import { nullTranslator } from '@jupyterlab/translation';
import * as React from 'react';
import { act } from 'react';
import { describe, expect, it, vi } from 'vitest';

import { MonitorRequestError } from '../api';
import { VersionView } from '../components/VersionView';
import { render } from './render';

const trans = nullTranslator.load('jupyter_session_monitor');

describe('VersionView', () => {
  it('shows the monitor and client versions from the payload', () => {
    const { container } = render(
      <VersionView
        state={{
          status: 'ready',
          info: { version: '0.1.0', qiskit_ibm_runtime_version: '0.51.0' }
        }}
        trans={trans}
        onRetry={() => undefined}
      />
    );

    expect(
      container.querySelector('[data-testid=monitor-version]')?.textContent
    ).toBe('0.1.0');
    expect(
      container.querySelector('[data-testid=runtime-version]')?.textContent
    ).toBe('0.51.0');
    expect(container.querySelector('[role=alert]')).toBeNull();
  });

  it('says so in words when the client is missing on the server', () => {
    const { container } = render(
      <VersionView
        state={{
          status: 'ready',
          info: { version: '0.1.0', qiskit_ibm_runtime_version: null }
        }}
        trans={trans}
        onRetry={() => undefined}
      />
    );

    expect(
      container.querySelector('[data-testid=runtime-version]')?.textContent
    ).toBe('not installed on the server');
  });

  it('explains an error in words and offers a retry that calls back', () => {
    const onRetry = vi.fn();
    const error = new MonitorRequestError(
      'network',
      'Cannot reach the Jupyter server (Failed to fetch). Check that it is still running.',
      null
    );
    const { container } = render(
      <VersionView
        state={{ status: 'error', error }}
        trans={trans}
        onRetry={onRetry}
      />
    );

    const alert = container.querySelector('[role=alert]');
    expect(alert?.textContent).toContain(
      'The session monitor is not available.'
    );
    expect(alert?.textContent).toContain('Cannot reach the Jupyter server');
    expect(container.querySelector('[data-testid=monitor-version]')).toBeNull();

    const retry = container.querySelector('button');
    expect(retry?.textContent).toBe('Retry');
    act(() => retry?.click());
    expect(onRetry).toHaveBeenCalledTimes(1);
  });

  it('shows a loading line while the server has not answered', () => {
    const { container } = render(
      <VersionView
        state={{ status: 'loading' }}
        trans={trans}
        onRetry={() => undefined}
      />
    );

    expect(container.querySelector('[role=status]')?.textContent).toBe(
      'Contacting the Jupyter server…'
    );
  });
});
