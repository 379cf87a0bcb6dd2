import { nullTranslator } from '@jupyterlab/translation';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { keptTranslations } from '../translation';

describe('keptTranslations', () => {
  // The null translator hands out one bundle per domain: its spies are undone after each test.
  const bundle = () => nullTranslator.load('jupyter_session_monitor');
  afterEach(() => vi.restoreAllMocks());

  it('writes what the bundle writes, each sentence asked of it once', () => {
    const inner = bundle();
    const writes = vi.spyOn(inner, '__');
    const plurals = vi.spyOn(inner, '_n');
    const trans = keptTranslations(inner);

    expect(trans.__('Cancel job %1', 'abc')).toBe('Cancel job abc');
    expect(trans.__('Cancel job %1', 'abc')).toBe('Cancel job abc');
    expect(trans.__('Cancel job %1', 'abd')).toBe('Cancel job abd');
    expect(trans.__('Cancel job %1')).toBe('Cancel job undefined');
    expect(trans.__('Cancel')).toBe('Cancel');
    expect(writes).toHaveBeenCalledTimes(4);

    expect(trans._n('%1 job', '%1 jobs', 1)).toBe('1 job');
    expect(trans._n('%1 job', '%1 jobs', 2)).toBe('2 jobs');
    expect(trans._n('%1 job', '%1 jobs', 2)).toBe('2 jobs');
    expect(trans._n('%1 job of %2', '%1 jobs of %2', 2, 'a')).toBe(
      '2 jobs of a'
    );
    expect(plurals).toHaveBeenCalledTimes(3);
  });

  it('keeps calls apart whose arguments differ only in where a separator falls', () => {
    const trans = keptTranslations(bundle());
    expect(trans.__('%1/%2', 'a\0b', 'c')).toBe('a\0b/c');
    expect(trans.__('%1/%2', 'a', 'b\0c')).toBe('a/b\0c');
    expect(trans.__('%1/%2', 'a|1:b', 'c')).toBe('a|1:b/c');
    expect(trans.__('%1/%2', 'a', 'b|1:c')).toBe('a/b|1:c');
  });

  it('writes a sentence again once it has forgotten what it kept', () => {
    const inner = bundle();
    const writes = vi.spyOn(inner, '__');
    const trans = keptTranslations(inner);
    for (let i = 0; i <= 4000; i++) {
      expect(trans.__('job %1', i)).toBe(`job ${i}`);
    }
    expect(trans.__('job %1', 0)).toBe('job 0');
    expect(writes).toHaveBeenCalledTimes(4002);
  });

  it('passes the other methods to the bundle', () => {
    const trans = keptTranslations(bundle());
    expect(trans._p('menu', 'Close %1', 'x')).toBe('Close x');
    expect(trans._np('menu', '%1 job', '%1 jobs', 3)).toBe('3 jobs');
    expect(trans.gettext('a %1', 'b')).toBe('a b');
    expect(trans.ngettext('%1 a', '%1 as', 1)).toBe('1 a');
  });
});
