/**
 * The sidebar benchmark page. Two variants render the same store in a sidebar-sized box:
 *
 * - optimized: the real `SessionList` (src/components), with the real `MonitorModel`,
 *   `SessionStore`, `Ticker` and `SessionActions`; the snapshot comes from a fake `fetch`;
 * - naive: `NaiveList` (./naive.tsx), a whole-list re-render on every tick and every change.
 *
 * For each: the time from a tick's emission to React having committed and the browser having
 * recomputed style and layout, and the same for a pushed change applied to the store. Variants
 * alternate over several rounds, each from a fresh store holding the same snapshot and fed the
 * same changes. Results go to `window.__results` (or `window.__error`).
 */
import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import type { Signal } from '@lumino/signaling';
import * as React from 'react';
import ReactModule from 'react';
import { flushSync } from 'react-dom';
import { createRoot } from 'react-dom/client';

import '../../style/base.css';
import './page.css';

import { SessionActions } from '../../src/actions';
import { SessionList } from '../../src/components/list';
import { TimelinePicture } from '../../src/components/timeline';
import { MonitorModel } from '../../src/store/model';
import { groupSessions } from '../../src/present';
import type { IChange, ISessionView } from '../../src/store/sessionStore';
import { Ticker } from '../../src/ticker';
import { keptTranslations } from '../../src/translation';
import { IBenchData, makeData, nextView } from './data';
import { NaiveList } from './naive';

type Variant = 'optimized' | 'naive';

/**
 * Count the React elements created (a measure of how much was re-rendered): every component
 * module reads `createElement` from the one `react` module object, so wrapping it there counts
 * them all.
 */
let elements = 0;
const createElement = ReactModule.createElement;
(ReactModule as { createElement: typeof createElement }).createElement =
  function (this: unknown) {
    elements += 1;
    // `arguments` rather than a rest parameter: no array copy per element.
    // eslint-disable-next-line prefer-rest-params
    const args = arguments as unknown as unknown[];
    return (createElement as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof createElement;

interface ISample {
  /** Emission to React's commit (render, DOM writes, effects), ms. */
  script: number;
  /** The same plus the style and layout it forces, ms. */
  total: number;
  /** DOM mutation records the commit produced. */
  mutations: number;
  /** React elements created (components re-rendered, and what they returned). */
  elements: number;
  /** For a change: whether its session's row is expanded. */
  expanded?: boolean;
  /** For a change: whether its session's row is on screen. */
  onScreen?: boolean;
}

interface IVariantResult {
  tick: ISample[];
  update: ISample[];
  domNodes: number;
  rows: number;
  /** Components listening to the ticker once settled. */
  tickListeners: number;
  /** Text of the countdowns on screen after the last tick (to compare the variants). */
  visibleCountdowns: string[];
  /** Elements by tag and classes ("li.jp-SessionMonitor-session"), to compare the markup. */
  markup: Record<string, number>;
}

const params = new URLSearchParams(location.search);
const config = {
  sessions: Number(params.get('sessions') ?? 200),
  jobs: Number(params.get('jobs') ?? 25),
  ticks: Number(params.get('ticks') ?? 60),
  updates: Number(params.get('updates') ?? 200),
  rounds: Number(params.get('rounds') ?? 3),
  expand: Number(params.get('expand') ?? 5),
  /** Jobs of the sessions whose rows are expanded (the job table pages beyond 20). */
  expandedJobs: Number(params.get('expandedJobs') ?? params.get('jobs') ?? 25),
  /** Every n-th pushed change is to an expanded session (0: any session alike). */
  expandedChangeEvery: Number(params.get('expandedChangeEvery') ?? 10),
  /** Every n-th session is stale (1: all, as when the service is unreachable). */
  staleEvery: Number(params.get('staleEvery') ?? 33),
  /** Debugging: run only this variant once and leave it on the page. */
  keep: params.get('keep') as Variant | null
};
// As the plugin loads it (src/index.ts).
const trans = keptTranslations(nullTranslator.load('jupyter_session_monitor'));

/** Server settings whose fetch answers `GET sessions` and `GET sessions/{id}` from `data`. */
function fakeServer(data: IBenchData): ServerConnection.ISettings {
  const answer = async (url: string): Promise<Response> => {
    // Answer later, as a server would: its work is not the page's render time.
    await new Promise(resolve => setTimeout(resolve, 0));
    const path = new URL(url).pathname;
    // `GET sessions/{id}` and `GET sessions/{id}/timeline` (an expanded row's timeline).
    const match = /\/sessions\/([^/]+)(?:\/timeline)?$/.exec(path);
    if (match) {
      const id = decodeURIComponent(match[1]);
      const view = data.snapshot.sessions.find(s => s.id === id);
      return new Response(
        JSON.stringify({ ...view, timeline: data.timelines.get(id) ?? [] }),
        { status: 200 }
      );
    }
    // As the server does: its clock at the moment it answers (so the offset is about 0).
    const snapshot = {
      ...data.snapshot,
      server_time: new Date().toISOString()
    };
    return new Response(JSON.stringify(snapshot), { status: 200 });
  };
  return ServerConnection.makeSettings({
    baseUrl: 'http://bench.invalid/',
    fetch: ((input: RequestInfo) =>
      answer(typeof input === 'string' ? input : input.url)) as typeof fetch
  });
}

/** The benchmark drives the ticker itself: stop its wall-clock timer from ever starting. */
function manualTicker(ticker: Ticker): {
  emit: (now: number) => void;
  listeners: () => number;
} {
  const internals = ticker as unknown as {
    _schedule: () => void;
    _listeners: number;
  };
  internals._schedule = () => undefined;
  return {
    emit: now => (ticker.ticked as Signal<Ticker, number>).emit(now),
    listeners: () => internals._listeners
  };
}

function nextFrame(): Promise<void> {
  return new Promise(resolve =>
    requestAnimationFrame(() => setTimeout(resolve, 0))
  );
}

/** Wait until the ticker's listener count has not changed for a few frames. */
async function settle(listeners: () => number): Promise<void> {
  let last = -1;
  let same = 0;
  for (let frame = 0; frame < 120 && same < 4; frame++) {
    await nextFrame();
    const count = listeners();
    same = count === last ? same + 1 : 0;
    last = count;
  }
}

async function runVariant(
  variant: Variant,
  data: IBenchData,
  ticks: number,
  updates: number,
  keep = false
): Promise<IVariantResult> {
  const host = document.getElementById('sidebar')!;
  const model = new MonitorModel(fakeServer(data));
  const ticker = manualTicker(model.ticker);
  await model.store.resync();
  const actions = new SessionActions(model, trans);
  const fetchTimeline = (id: string) => model.fetchTimeline(id);
  const container = document.createElement('div');
  container.className = 'jp-SessionMonitor';
  host.replaceChildren(container);
  const root = createRoot(container);
  flushSync(() =>
    root.render(
      <>
        <header className="jp-SessionMonitor-header">
          <h2>{trans.__('Qiskit Runtime sessions')}</h2>
        </header>
        {variant === 'optimized' ? (
          <SessionList
            model={model}
            actions={actions}
            trans={trans}
            openNotebook={() => undefined}
          />
        ) : (
          <NaiveList
            store={model.store}
            ticker={model.ticker}
            actions={actions}
            trans={trans}
            fetchTimeline={fetchTimeline}
          />
        )}
      </>
    )
  );
  // Expand the first rows through the UI, as a user would: their job tables render.
  const buttons = container.querySelectorAll<HTMLButtonElement>(
    '.jp-SessionMonitor-expand'
  );
  for (let i = 0; i < Math.min(config.expand, buttons.length); i++) {
    buttons[i].click();
    await nextFrame();
  }
  await settle(ticker.listeners);

  const observer = new MutationObserver(() => undefined);
  observer.observe(container, {
    subtree: true,
    childList: true,
    characterData: true,
    attributes: true
  });
  /** Whether the row of session `id` is in the sidebar's visible part. */
  const onScreen = (id: string): boolean => {
    const row = container.querySelector(`[data-session-id="${id}"]`);
    const rect = row?.getBoundingClientRect();
    const box = container.getBoundingClientRect();
    return rect !== undefined && rect.bottom > box.top && rect.top < box.bottom;
  };
  const measure = (action: () => void): ISample => {
    observer.takeRecords();
    elements = 0;
    const t0 = performance.now();
    flushSync(action);
    const t1 = performance.now();
    void container.offsetHeight; // style and layout, as the next frame would do them
    const t2 = performance.now();
    return {
      script: t1 - t0,
      total: t2 - t0,
      mutations: observer.takeRecords().length,
      elements
    };
  };

  const tick: ISample[] = [];
  let now = data.now;
  for (let i = 0; i < ticks; i++) {
    now += 1000;
    const at = now;
    tick.push(measure(() => ticker.emit(at)));
    await nextFrame();
  }
  const box = container.getBoundingClientRect();
  const visibleCountdowns = [
    ...container.querySelectorAll('[data-testid="countdown-text"]')
  ]
    .filter(node => {
      const rect = node.getBoundingClientRect();
      return rect.bottom > box.top && rect.top < box.bottom && rect.height > 0;
    })
    .map(node => node.textContent ?? '');

  const expandedIds = new Set(
    [
      ...container.querySelectorAll<HTMLElement>(
        '.jp-SessionMonitor-session:has(> .jp-SessionMonitor-expanded)'
      )
    ].map(row => row.dataset.sessionId)
  );
  const update: ISample[] = [];
  for (const change of data.changes.slice(0, updates)) {
    const sample = measure(() => model.store.apply(change));
    update.push({
      ...sample,
      expanded: expandedIds.has(change.session_id),
      onScreen: onScreen(change.session_id) // read after the measure: not timed
    });
    await nextFrame();
  }
  if (model.store.version !== data.changes[updates - 1].version) {
    throw new Error(`${variant}: the store missed changes`);
  }
  const result: IVariantResult = {
    tick,
    update,
    domNodes: container.getElementsByTagName('*').length,
    rows: container.querySelectorAll('.jp-SessionMonitor-session').length,
    tickListeners: ticker.listeners(),
    visibleCountdowns,
    markup: markupOf(container)
  };
  observer.disconnect();
  if (keep) {
    // For profiling the page left as it is: `count` more changes, each the next poll of a session
    // as it is in the store now (every `every`-th to an expanded row), timed. A session with no
    // job left to run starts again from its snapshot, untimed.
    let version = model.store.version;
    const expandedList = [...expandedIds] as string[];
    const original = new Map(data.snapshot.sessions.map(s => [s.id, s]));
    const step = (id: string, view: ISessionView): IChange => {
      version += 1;
      return { version, kind: 'updated', session_id: id, session: view };
    };
    (window as unknown as { __again: unknown }).__again = async (
      count: number,
      frames = false,
      every = config.expandedChangeEvery
    ) => {
      const times: ISample[] = [];
      const sessions = data.snapshot.sessions;
      for (let i = 0; i < count; i++) {
        const id =
          every > 0 && i % every === every - 1
            ? expandedList[Math.floor(Math.random() * expandedList.length)]
            : sessions[Math.floor(Math.random() * sessions.length)].id;
        let before = model.store.sessions.get(id)!;
        if (!before.jobs?.some(job => job.status === 'QUEUED')) {
          model.store.apply(step(id, original.get(id)!));
          await nextFrame();
          before = model.store.sessions.get(id)!;
        }
        const change = step(id, nextView(before, Date.now(), Math.random));
        const sample = measure(() => model.store.apply(change));
        times.push({
          ...sample,
          expanded: expandedIds.has(id),
          onScreen: onScreen(id)
        });
        if (frames) {
          await nextFrame();
        }
      }
      return times;
    };
    return result;
  }
  root.unmount();
  model.dispose();
  host.replaceChildren();
  return result;
}

/**
 * An expanded row's timeline picture drawn again, as when its refetched timeline arrives (at
 * most once per `REFETCH_MS` per row, after a change to a job or the session's state): a pushed
 * change alone leaves the picture alone, so this is the cost the change's measure does not see.
 * The picture of an expanded session, in the sidebar's box, alternating between its snapshot and
 * the next state (its running job done, the next queued one running), each a new object.
 */
async function timelineRedraws(
  data: IBenchData,
  count: number
): Promise<ISample[]> {
  const index = [...firstShown(1)][0];
  const first = data.snapshot.sessions[index];
  const jobs = [...(first.jobs ?? [])];
  const running = jobs.findIndex(job => job.status === 'RUNNING');
  const at = new Date(data.now).toISOString();
  if (running >= 0) {
    jobs[running] = { ...jobs[running], status: 'DONE', finished: at };
  }
  const queued = jobs.findIndex(job => job.status === 'QUEUED');
  if (queued >= 0) {
    jobs[queued] = { ...jobs[queued], status: 'RUNNING', started: at };
  }
  const second: ISessionView = { ...first, jobs };
  const timeline = data.timelines.get(first.id) ?? [];
  const ticker = new Ticker();
  manualTicker(ticker);
  const host = document.getElementById('sidebar')!;
  const container = document.createElement('div');
  container.className = 'jp-SessionMonitor';
  host.replaceChildren(container);
  const root = createRoot(container);
  const render = (view: ISessionView) =>
    root.render(
      <TimelinePicture
        view={{ ...view, timeline }}
        transitions={timeline}
        ticker={ticker}
        offset={0}
        trans={trans}
      />
    );
  flushSync(() => render(first));
  const samples: ISample[] = [];
  for (let i = 0; i < count; i++) {
    elements = 0;
    const t0 = performance.now();
    flushSync(() => render(i % 2 ? first : second));
    const t1 = performance.now();
    void container.offsetHeight;
    const t2 = performance.now();
    samples.push({ script: t1 - t0, total: t2 - t0, mutations: 0, elements });
    await nextFrame();
  }
  root.unmount();
  ticker.dispose();
  host.replaceChildren();
  return samples;
}

function markupOf(container: HTMLElement): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const element of container.getElementsByTagName('*')) {
    const classes = [...element.classList].sort();
    const key = [element.tagName.toLowerCase(), ...classes].join('.');
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/**
 * The indices (in the snapshot) of the sessions the first `count` rows show: the grouping
 * depends on each session's index only (its notebook, state, orphaned flag, creation time), not
 * on the random parts, so the same indices come first whatever their job counts.
 */
function firstShown(count: number): Set<number> {
  const probe = makeData({
    sessions: config.sessions,
    jobs: 1,
    changes: 0,
    staleEvery: config.staleEvery,
    now: Date.now()
  });
  const index = new Map(probe.snapshot.sessions.map((s, i) => [s.id, i]));
  const shown = groupSessions(probe.snapshot.sessions, {
    filter: '',
    show: 'all',
    recentlyClosedMinutes: 60,
    now: probe.now
  })
    .filter(group => group.kind !== 'closed') // collapsed at first
    .flatMap(group => group.sessions);
  return new Set(shown.slice(0, count).map(view => index.get(view.id)!));
}

function merge(results: IVariantResult[]): IVariantResult {
  return {
    ...results[results.length - 1],
    tick: results.flatMap(r => r.tick),
    update: results.flatMap(r => r.update)
  };
}

async function main(): Promise<void> {
  const data = makeData({
    sessions: config.sessions,
    jobs: config.jobs,
    changes: config.updates,
    staleEvery: config.staleEvery,
    expanded: firstShown(config.expand),
    expandedJobs: config.expandedJobs,
    expandedChangeEvery: config.expandedChangeEvery,
    now: Date.now()
  });
  const started = performance.now();
  if (config.keep) {
    const result = await runVariant(
      config.keep,
      data,
      config.ticks,
      config.updates,
      true
    );
    (window as unknown as { __results: unknown }).__results = {
      config,
      seconds: 0,
      optimized: result,
      naive: result
    };
    return;
  }
  // Warm-up (JIT, style sheets, icon caches), not counted.
  for (const variant of ['optimized', 'naive'] as const) {
    await runVariant(variant, data, 5, Math.min(20, config.updates));
  }
  const all: Record<Variant, IVariantResult[]> = { optimized: [], naive: [] };
  const redraws: ISample[] = [];
  for (let round = 0; round < config.rounds; round++) {
    const order: Variant[] =
      round % 2 === 0 ? ['optimized', 'naive'] : ['naive', 'optimized'];
    for (const variant of order) {
      all[variant].push(
        await runVariant(variant, data, config.ticks, config.updates)
      );
    }
    redraws.push(...(await timelineRedraws(data, config.ticks)));
  }
  (window as unknown as { __results: unknown }).__results = {
    config,
    seconds: (performance.now() - started) / 1000,
    optimized: merge(all.optimized),
    naive: merge(all.naive),
    timelineRedraws: redraws
  };
}

main().catch((error: Error) => {
  (window as unknown as { __error: string }).__error =
    `${error.message}\n${error.stack ?? ''}`;
});
