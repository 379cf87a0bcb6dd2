import { nullTranslator } from '@jupyterlab/translation';
import { describe, expect, it } from 'vitest';

import { closeAllFailedText } from '../actions';

const trans = nullTranslator.load('jupyter_session_monitor');

describe('closeAllFailedText', () => {
  it('says "1 session", not "1 sessions" (#26 item 7)', () => {
    expect(closeAllFailedText(1, ['a1b2c3d4: refused'], trans)).toBe(
      'Closed 1 session; could not close 1: a1b2c3d4: refused'
    );
    expect(closeAllFailedText(3, ['x: refused', 'y: refused'], trans)).toBe(
      'Closed 3 sessions; could not close 2: x: refused; y: refused'
    );
  });
});
