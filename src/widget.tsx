import {
  DOMWidgetModel,
  DOMWidgetView,
  IJupyterWidgetRegistry
} from '@jupyter-widgets/base';
import * as React from 'react';
import { createRoot, Root } from 'react-dom/client';

import { SessionCard } from './components/SessionCard';
import type { ISessionMonitor } from './tokens';
import { PACKAGE_VERSION, WIDGET_MODULE } from './version';

/** The kernel's `SessionWidget` model: only the session id is synced. */
export class SessionModel extends DOMWidgetModel {
  defaults(): ReturnType<DOMWidgetModel['defaults']> {
    return {
      ...super.defaults(),
      _model_name: 'SessionModel',
      _model_module: WIDGET_MODULE,
      _model_module_version: PACKAGE_VERSION,
      _view_name: 'SessionView',
      _view_module: WIDGET_MODULE,
      _view_module_version: PACKAGE_VERSION,
      session_id: ''
    };
  }
}

/** Register the widget module; its view renders from the page's store (no kernel traffic). */
export function registerSessionWidget(
  registry: IJupyterWidgetRegistry,
  monitor: ISessionMonitor
): void {
  class SessionView extends DOMWidgetView {
    render(): void {
      this.el.classList.add('jp-SessionMonitor-widget');
      this._root = createRoot(this.el);
      this._draw();
      this.listenTo(this.model, 'change:session_id', this._draw);
    }

    remove(): void {
      this._root?.unmount();
      this._root = null;
      super.remove();
    }

    private _draw(): void {
      this._root?.render(
        <SessionCard
          sessionId={String(this.model.get('session_id') ?? '')}
          model={monitor.model}
          actions={monitor.actions}
          trans={monitor.trans}
          reveal={monitor.reveal}
        />
      );
    }

    private _root: Root | null = null;
  }

  registry.registerWidget({
    name: WIDGET_MODULE,
    version: PACKAGE_VERSION,
    exports: { SessionModel, SessionView }
  });
}
