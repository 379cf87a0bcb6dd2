import type { TranslationBundle } from '@jupyterlab/translation';

/** How many sentences a bundle keeps before it forgets them all and starts again. */
const KEPT_MAX = 4000;

/**
 * The bundle, keeping the sentences `__` and `_n` have written: the sidebar writes the same
 * labels at every change to a row (its buttons, a job's Cancel, the table's header), and each
 * call looks the message up and fills in its arguments with three regular expressions again. A
 * page keeps one language until it is reloaded, so a sentence written once for the same message
 * and arguments stays true. The other methods are the bundle's own.
 */
export function keptTranslations(bundle: TranslationBundle): TranslationBundle {
  const kept = new Map<string, string>();
  const keep = (key: string, write: () => string): string => {
    let text = kept.get(key);
    if (text === undefined) {
      text = write();
      if (kept.size >= KEPT_MAX) {
        kept.clear();
      }
      kept.set(key, text);
    }
    return text;
  };
  // Each part as the bundle writes it into the sentence (`${}`: undefined as "undefined", as the
  // bundle does), after its length: no two different calls share a key.
  const keyOf = (kind: string, parts: unknown[]): string => {
    let key = kind;
    for (const part of parts) {
      const text = `${part}`;
      key += `|${text.length}:${text}`;
    }
    return key;
  };
  return {
    __: (msgid, ...args) =>
      keep(keyOf('__', [msgid, ...args]), () => bundle.__(msgid, ...args)),
    _n: (msgid, plural, n, ...args) =>
      keep(keyOf('_n', [msgid, plural, n, ...args]), () =>
        bundle._n(msgid, plural, n, ...args)
      ),
    _p: (context, msgid, ...args) => bundle._p(context, msgid, ...args),
    _np: (context, msgid, plural, n, ...args) =>
      bundle._np(context, msgid, plural, n, ...args),
    gettext: (msgid, ...args) => bundle.gettext(msgid, ...args),
    ngettext: (msgid, plural, n, ...args) =>
      bundle.ngettext(msgid, plural, n, ...args),
    pgettext: (context, msgid, ...args) =>
      bundle.pgettext(context, msgid, ...args),
    npgettext: (context, msgid, plural, n, ...args) =>
      bundle.npgettext(context, msgid, plural, n, ...args),
    dcnpgettext: (domain, context, msgid, plural, n, ...args) =>
      bundle.dcnpgettext(domain, context, msgid, plural, n, ...args)
  };
}
