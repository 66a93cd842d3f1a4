// Entry of headless.html: the page that src/runtime/session.ts drives.
// window.vlalab is assembled from small api/*.ts modules; to add methods
// (runEpisode, collectEpisode, ...), write a module exporting an object of
// async functions and spread it into `api` below. Everything is registered
// before `ready` flips to true, which is what HeadlessSession waits for.
import pkg from '../../package.json';
import { renderApi } from './api/render.ts';
import { episodeApi } from './api/episode.ts';
import { infoApi } from './api/info.ts';
import { policyApi } from './api/policy.ts';

const api = {
  version: pkg.version as string,
  ready: false,
  /** Names of the callable methods, for error messages and introspection. */
  methods(): string[] {
    return Object.keys(api).filter((k) => typeof (api as Record<string, unknown>)[k] === 'function');
  },
  ...renderApi,
  ...episodeApi,
  ...infoApi,
  ...policyApi,
};

export type VlalabApi = typeof api;

(window as unknown as { vlalab: VlalabApi }).vlalab = api;
api.ready = true;
