import type { JupyterFrontEnd } from '@jupyterlab/application';

/**
 * Reaching a notebook's cells from the sidebar: open the notebook, find a cell by the id its
 * kernel reported (JupyterLab's cell id; the execution count when there is no id), show it, or
 * insert a Markdown cell after it. Typed by shape only, so this package needs no notebook
 * dependency: a document that is not a notebook is reported, not guessed at.
 */

interface ICellLike {
  readonly id: string;
  readonly type: string;
  readonly sharedModel: { execution_count?: number | null };
}

interface INotebookLike {
  readonly context: { ready: Promise<void> };
  readonly content: {
    activeCellIndex: number;
    readonly model: {
      readonly cells: {
        readonly length: number;
        get(index: number): ICellLike;
      };
      readonly sharedModel: {
        insertCell(
          index: number,
          cell: { cell_type: string; source: string }
        ): unknown;
      };
    } | null;
    scrollToItem?(index: number): Promise<void>;
  };
}

/** Where a cell is: its id (best) and its "In [n]" (when the id is unknown). */
export interface ICellRef {
  id: string | null;
  execution_count: number | null;
}

export class NotebookCells {
  constructor(private readonly _app: JupyterFrontEnd) {}

  /** Open the notebook and make the cell active and visible; false when it is not found. */
  async show(path: string, cell: ICellRef): Promise<boolean> {
    const found = await this._find(path, cell);
    if (!found) {
      return false;
    }
    const { notebook, index } = found;
    notebook.content.activeCellIndex = index;
    await notebook.content.scrollToItem?.(index);
    return true;
  }

  /** Insert a Markdown cell after the given one; false when it is not found. */
  async insertMarkdownAfter(
    path: string,
    cell: ICellRef,
    markdown: string
  ): Promise<boolean> {
    const found = await this._find(path, cell);
    if (!found || !found.notebook.content.model) {
      return false;
    }
    const { notebook, index } = found;
    notebook.content.model!.sharedModel.insertCell(index + 1, {
      cell_type: 'markdown',
      source: markdown
    });
    notebook.content.activeCellIndex = index + 1;
    await notebook.content.scrollToItem?.(index + 1);
    return true;
  }

  private async _find(
    path: string,
    cell: ICellRef
  ): Promise<{ notebook: INotebookLike; index: number } | null> {
    const widget = (await this._app.commands.execute('docmanager:open', {
      path
    })) as Partial<INotebookLike> | undefined;
    if (!widget?.context || !widget.content?.model) {
      return null;
    }
    const notebook = widget as INotebookLike;
    await notebook.context.ready;
    const cells = notebook.content.model!.cells;
    let byCount = -1;
    for (let index = 0; index < cells.length; index++) {
      const candidate = cells.get(index);
      if (cell.id && candidate.id === cell.id) {
        return { notebook, index };
      }
      if (
        byCount < 0 &&
        cell.execution_count !== null &&
        candidate.type === 'code' &&
        candidate.sharedModel.execution_count === cell.execution_count
      ) {
        byCount = index;
      }
    }
    // No id match (the cell was deleted, or the kernel gave no id): the "In [n]" if it is there.
    return byCount >= 0 ? { notebook, index: byCount } : null;
  }
}
