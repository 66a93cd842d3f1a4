// Entry of headless.html: the page that src/runtime/session.ts drives.
// window.vlalab is the page API (api/index.ts, assembled from small api/*.ts
// modules; add methods there) plus version and readiness. Everything is
// registered before `ready` flips to true, which is what HeadlessSession waits for.
import pkg from '../../package.json';
import { pageApi } from './api/index.ts';

const api = {
  version: pkg.version as string,
  ready: false,
  /** Names of the callable methods, for error messages and introspection. */
  methods(): string[] {
    return Object.keys(api).filter((k) => typeof (api as Record<string, unknown>)[k] === 'function');
  },
  ...pageApi,
};

export type VlalabApi = typeof api;

(window as unknown as { vlalab: VlalabApi }).vlalab = api;
api.ready = true;
