/** This package's version (package.json's, checked by a test): the widget module's version. */
export const PACKAGE_VERSION = '0.1.0';

/** The widget module name the kernel's `SessionWidget` asks for. */
export const WIDGET_MODULE = 'jupyter-session-monitor';
