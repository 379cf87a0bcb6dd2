import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { countdownsOf, ICountdown, primaryCountdowns } from '../present';
import type { ISessionView } from '../store/sessionStore';
import { Ticker, useNow, useOnScreen } from '../ticker';

export interface ICountdownProps {
  view: ISessionView;
  ticker: Ticker;
  /** How far this browser's clock is ahead of the server's (ms). */
  offset: number;
  trans: TranslationBundle;
  /** Every countdown (expanded row) or only the one that matters now. */
  all?: boolean;
  /** With `all`: leave out those the collapsed row already shows. */
  skipPrimary?: boolean;
  /** The numbers may be old (the push channel is down): say so next to them. */
  stale?: boolean;
  /** Besides the one that matters now, the max TTL (a cell's widget: it was just set). */
  withMaxTtl?: boolean;
}

/**
 * The countdowns of one session, re-rendered by the shared ticker only while on screen. The
 * ticking text is hidden from screen readers, which read the stable moment instead.
 */
export function Countdown(props: ICountdownProps): JSX.Element | null {
  const ref = React.useRef<HTMLDivElement>(null);
  const visible = useOnScreen(ref);
  const now = useNow(props.ticker, visible);
  const countdowns = countdownsOf(props.view, now, props.offset, props.trans);
  const primary = primaryCountdowns(countdowns);
  const isMaxTtl = (c: ICountdown) =>
    c.kind === 'max_ttl' || c.kind === 'max_ttl_not_started';
  const shown = !props.all
    ? props.withMaxTtl
      ? [
          ...primary,
          ...countdowns.filter(c => isMaxTtl(c) && !primary.includes(c))
        ]
      : primary
    : props.skipPrimary
      ? countdowns.filter(c => !primary.includes(c))
      : countdowns;
  if (!shown.length) {
    return null;
  }
  return (
    <div
      ref={ref}
      className={
        'jp-SessionMonitor-countdowns' + (props.stale ? ' jp-mod-stale' : '')
      }
    >
      {shown.map(countdown => (
        <CountdownLine
          key={countdown.kind}
          countdown={countdown}
          trans={props.trans}
          stale={props.stale}
        />
      ))}
    </div>
  );
}

function CountdownLine({
  countdown,
  trans,
  stale
}: {
  countdown: ICountdown;
  trans: TranslationBundle;
  stale?: boolean;
}): JSX.Element {
  const urgent = countdown.seconds !== null && countdown.seconds <= 60;
  return (
    <div
      className={
        'jp-SessionMonitor-countdown' + (urgent ? ' jp-mod-urgent' : '')
      }
      data-kind={countdown.kind}
    >
      <span role="timer" aria-label={countdown.label}>
        <span aria-hidden="true" data-testid="countdown-text">
          {countdown.text}
        </span>
      </span>
      {stale && (
        <span className="jp-SessionMonitor-staleNote">
          {' '}
          {trans.__('(may be out of date)')}
        </span>
      )}
      {countdown.progress !== undefined && (
        <progress
          className="jp-SessionMonitor-progress"
          max={1}
          value={countdown.progress}
          aria-label={trans.__('Share of the maximum time used')}
        />
      )}
    </div>
  );
}
