import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import type { MonitorModel } from '../../store/model';

export const TRACK_INPUT_ID = 'jp-SessionMonitor-trackId';

/** Tracking a session by id: at the top of the list, under the toolbar (whose + reaches it). */
export function TrackForm(props: {
  model: MonitorModel;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, trans } = props;
  const [value, setValue] = React.useState('');
  const [busy, setBusy] = React.useState(false);
  const [error, setError] = React.useState<string | null>(null);
  const inputId = TRACK_INPUT_ID;
  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    const id = value.trim();
    if (!id) {
      setError(
        trans.__('Enter a session id, as `session.session_id` shows it.')
      );
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const view = await model.track(id);
      setValue('');
      model.reveal(view.id);
    } catch (reason) {
      setError((reason as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      className="jp-SessionMonitor-track"
      onSubmit={event => void submit(event)}
      aria-label={trans.__('Track a session by id')}
    >
      <label htmlFor={inputId}>{trans.__('Track a session by id')}</label>
      <div className="jp-SessionMonitor-trackRow">
        <input
          id={inputId}
          className="jp-mod-styled"
          value={value}
          placeholder={trans.__('session id')}
          spellCheck={false}
          autoComplete="off"
          onChange={event => setValue(event.target.value)}
          aria-invalid={error !== null}
          aria-describedby={error ? `${inputId}-error` : undefined}
        />
        <button
          type="submit"
          className="jp-mod-styled jp-mod-accept"
          disabled={busy}
        >
          {busy ? trans.__('Tracking…') : trans.__('Track')}
        </button>
      </div>
      {error && (
        <p
          id={`${inputId}-error`}
          className="jp-SessionMonitor-formError"
          role="alert"
        >
          {error}
        </p>
      )}
    </form>
  );
}
