// Entry of a training thread (src/train/threads.ts): registers tsx so the
// TypeScript worker runs directly in Node, as bin/vlalab.mjs does for the CLI.
import { register } from 'tsx/esm/api';
register();
await import('./trainWorker.ts');
