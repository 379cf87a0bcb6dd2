import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

// Code and commands shown as they are typed: not prose, so not translated.
const OPEN_SESSION_SAMPLE = `from qiskit_ibm_runtime import QiskitRuntimeService, Session, SamplerV2

service = QiskitRuntimeService()
backend = service.least_busy()
with Session(backend=backend) as session:
    sampler = SamplerV2(mode=session)`;
const DEMO_COMMAND = './dev demo';
const EMULATOR_COMMAND =
  'python -m jupyter_session_monitor.emulator serve --port 8765';

export function EmptyState({
  trans
}: {
  trans: TranslationBundle;
}): JSX.Element {
  return (
    <div className="jp-SessionMonitor-empty">
      <h3>{trans.__('No Qiskit Runtime sessions yet')}</h3>
      <p>
        {trans.__(
          'A session reserves a quantum computer for a series of jobs and is billed for the time it stays open, idle gaps included. Sessions opened from notebooks on this server appear here by themselves, grouped by notebook.'
        )}
      </p>
      <p>{trans.__('To open one in a notebook:')}</p>
      <CodeSample code={OPEN_SESSION_SAMPLE} />
      <p>
        {trans.__(
          'No IBM Quantum account? The local emulator answers like the real service. From a clone of this project, this starts it with JupyterLab:'
        )}
      </p>
      <CodeSample code={DEMO_COMMAND} />
      <p>
        {trans.__(
          'or run it alone and use the environment variables it prints:'
        )}
      </p>
      <CodeSample code={EMULATOR_COMMAND} />
      <p>
        {trans.__(
          'A session opened elsewhere (another machine, a script) can be tracked by its id below.'
        )}
      </p>
    </div>
  );
}

/**
 * Code as typed, wrapped only at spaces and after a dot or before a parenthesis (`<wbr>`, which a
 * copy leaves out), never inside a name.
 */
export function CodeSample({ code }: { code: string }): JSX.Element {
  const pieces = code.split(/(?<=\.)|(?=\()/);
  return (
    <pre className="jp-SessionMonitor-code">
      {pieces.map((piece, index) => (
        <React.Fragment key={index}>
          {index > 0 && <wbr />}
          {piece}
        </React.Fragment>
      ))}
    </pre>
  );
}
