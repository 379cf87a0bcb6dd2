import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import type { SessionActions } from '../../actions';
import { isClosed } from '../../present';
import type { ISessionView } from '../../store/sessionStore';

/** The receipt, and the cell that opened the session. */
export function RowLinks(props: {
  view: ISessionView;
  actions: SessionActions;
  trans: TranslationBundle;
}): JSX.Element {
  const { view, actions, trans } = props;
  const cell = view.cell;
  return (
    <div className="jp-SessionMonitor-rowLinks">
      <button
        type="button"
        className="jp-SessionMonitor-linkButton"
        onClick={() => void actions.showReceipt(view)}
        data-testid="receipt-button"
      >
        {isClosed(view) ? trans.__('Receipt…') : trans.__('Receipt so far…')}
      </button>
      {cell && view.notebook_path && (
        <button
          type="button"
          className="jp-SessionMonitor-linkButton"
          onClick={() => void actions.goToCell(view)}
          title={trans.__('Show the cell that opened this session')}
          data-testid="go-to-cell"
        >
          {cell.execution_count !== null
            ? trans.__('Go to cell [%1]', cell.execution_count)
            : trans.__('Go to cell')}
        </button>
      )}
    </div>
  );
}

/** An ISO 8601 time as the service writes them: kept on one line. */
export function isTimestamp(value: unknown): boolean {
  return (
    typeof value === 'string' &&
    /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?$/.test(value)
  );
}

function detailValue(value: unknown): string {
  if (value === null || value === undefined) {
    return '—';
  }
  if (typeof value === 'object') {
    return JSON.stringify(value);
  }
  return String(value);
}

export function Details(props: {
  view: ISessionView;
  trans: TranslationBundle;
}): JSX.Element {
  // The list exists only while the block is open: closed, it is neither shown nor read out, and
  // a busy session's change would otherwise render and format every value of it again.
  const [open, setOpen] = React.useState(false);
  const details = props.view.details ?? {};
  return (
    <details
      className="jp-SessionMonitor-detailsBlock"
      onToggle={event => setOpen(event.currentTarget.open)}
    >
      <summary>{props.trans.__('details()')}</summary>
      {open && (
        <dl className="jp-SessionMonitor-detailList">
          {Object.entries(details)
            .filter(([key]) => key !== 'timestamps')
            .map(([key, value]) => (
              <React.Fragment key={key}>
                <dt>{key}</dt>
                <dd className={isTimestamp(value) ? 'jp-mod-time' : undefined}>
                  {detailValue(value)}
                </dd>
              </React.Fragment>
            ))}
        </dl>
      )}
    </details>
  );
}
