/** This package's version (package.json's, checked by a test): the widget module's version. */
export const PACKAGE_VERSION = '0.1.0';

/** The widget module name the kernel's `SessionWidget` asks for. */
export const WIDGET_MODULE = 'jupyter-session-monitor';

/**
 * The output mime type of a `SessionWidget` (`{"session_id": ...}`): rendered from the page's
 * store, so it needs no live kernel model and survives kernel restarts and page reloads.
 */
export const SESSION_MIME_TYPE =
  'application/vnd.jupyter-session-monitor.session+json';
