// The page's API, the Node <-> page contract. headless.html installs it as
// window.vlalab (src/app/headless.ts); HeadlessSession.call(method, ...args)
// (src/runtime/session.ts) runs window.vlalab[method](...args) there and is
// typed by PageApi, so a call's arguments and result are checked against the
// page function it reaches. Arguments and results cross page.evaluate as
// JSON-like values (frames and float arrays as base64, src/runtime/b64.ts).
// To add methods, write a module exporting an object of async functions and
// spread it in below.
import { daggerApi } from './dagger.ts';
import { episodeApi } from './episode.ts';
import { infoApi } from './info.ts';
import { policyApi } from './policy.ts';
import { renderApi } from './render.ts';

export const pageApi = {
  ...renderApi,
  ...episodeApi,
  ...infoApi,
  ...policyApi,
  ...daggerApi,
};

export type PageApi = typeof pageApi;
export type PageMethod = keyof PageApi;
/** What a page method resolves to in Node (after page.evaluate). */
export type PageResult<M extends PageMethod> = Awaited<ReturnType<PageApi[M]>>;
