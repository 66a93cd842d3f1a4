// Writes tests/fixtures/demo-policy-frames.json.gz: the demo page's policy-camera
// frames (tests/app/policyFrames.ts). Run it ONLY on code whose policy cameras
// are the reference (main before a rendering change), never to make a failing
// comparison pass:  npx tsx tests/app/capturePolicyFrames.ts
import { execSync } from 'node:child_process';
import { HeadlessSession } from '../../src/runtime/session.ts';
import { capturePolicyFrames, FIXTURE, writeFixture } from './policyFrames.ts';

const session = await HeadlessSession.open({ page: 'index.html' });
try {
  const frames = await capturePolicyFrames(session.page);
  const commit = execSync('git rev-parse HEAD', { encoding: 'utf8' }).trim();
  const userAgent = await session.page.evaluate(() => navigator.userAgent);
  writeFixture({ capturedFrom: commit, userAgent, frames });
  console.log(`${FIXTURE}: ${Object.keys(frames).length} frames from ${commit}`);
} finally {
  await session.close();
}
