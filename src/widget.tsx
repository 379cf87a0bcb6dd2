import {
  DOMWidgetModel,
  DOMWidgetView,
  IJupyterWidgetRegistry
} from '@jupyter-widgets/base';
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';
import * as React from 'react';
import { createRoot, Root } from 'react-dom/client';

import { SessionCard } from './components/SessionCard';
import type { ISessionMonitor } from './tokens';
import { PACKAGE_VERSION, SESSION_MIME_TYPE, WIDGET_MODULE } from './version';

/** The kernel's `SessionWidget` model: only the session id is synced. */
export class SessionModel extends DOMWidgetModel {
  defaults(): ReturnType<DOMWidgetModel['defaults']> {
    return {
      ...super.defaults(),
      _model_name: 'SessionModel',
      _model_module: WIDGET_MODULE,
      _model_module_version: PACKAGE_VERSION,
      _view_name: 'SessionWidgetView',
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
  class SessionWidgetView extends DOMWidgetView {
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
    exports: { SessionModel, SessionWidgetView }
  });
}

/**
 * A `SessionWidget` output drawn from its session id alone. Preferred over the ipywidgets view
 * for a displayed widget: the widget model lives only as long as its kernel, so after a kernel
 * restart or a page reload the view would say "model not found", while the id is in the output.
 */
export class SessionOutput extends Widget implements IRenderMime.IRenderer {
  constructor(private readonly _monitor: ISessionMonitor) {
    super();
    this.addClass('jp-SessionMonitor-widget');
    this._root = createRoot(this.node);
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const data = model.data[SESSION_MIME_TYPE] as { session_id?: unknown };
    const sessionId =
      typeof data?.session_id === 'string' ? data.session_id : '';
    const monitor = this._monitor;
    this._root.render(
      <SessionCard
        sessionId={sessionId}
        model={monitor.model}
        actions={monitor.actions}
        trans={monitor.trans}
        reveal={monitor.reveal}
      />
    );
    return Promise.resolve();
  }

  dispose(): void {
    if (!this.isDisposed) {
      this._root.unmount();
    }
    super.dispose();
  }

  private _root: Root;
}

/** Ranks below ipywidgets' own (0) win: a displayed `SessionWidget` renders from its id. */
export const SESSION_OUTPUT_RANK = -20;

export function sessionOutputFactory(
  monitor: ISessionMonitor
): IRenderMime.IRendererFactory {
  return {
    // It shows only what the monitor knows about the id (text, never the output's HTML).
    safe: true,
    mimeTypes: [SESSION_MIME_TYPE],
    createRenderer: () => new SessionOutput(monitor)
  };
}
