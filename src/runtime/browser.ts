// Launches the system Chromium through playwright-core. We never download
// Playwright's own browsers: the Debian package (or a path the user gives)
// is the only browser, so CI and dev machines render with the same build.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** Always passed: no sandbox (containers, root), no network chatter, no background updates. */
export const BASE_ARGS = [
  '--no-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * WebGPU on SwiftShader (CPU). Both --use-* flags are needed: with
 * --enable-unsafe-webgpu alone, compute works but drawing to a WebGPU canvas
 * kills the device for the whole browser (see shared notes).
 */
export const WEBGPU_ARGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-angle=swiftshader',
];

export interface LaunchOptions {
  executablePath?: string;
  webgpu?: boolean;
  /** Only headless is supported for now; kept explicit for future headed debugging. */
  headless?: true;
  extraArgs?: string[];
}

/** Resolution order: option, $VLALAB_CHROMIUM, /usr/bin/chromium. */
export function resolveChromium(executablePath?: string): string {
  return executablePath ?? process.env.VLALAB_CHROMIUM ?? DEFAULT_CHROMIUM;
}

export function chromiumArgs(webgpu = false, extra: string[] = []): string[] {
  return [...BASE_ARGS, ...(webgpu ? WEBGPU_ARGS : []), ...extra];
}

export async function launchBrowser(opts: LaunchOptions = {}): Promise<Browser> {
  const executablePath = resolveChromium(opts.executablePath);
  if (!existsSync(executablePath)) {
    throw new Error(
      `Chromium not found at ${executablePath}. Install it with \`apt-get install -y chromium\` ` +
        `or point VLALAB_CHROMIUM at a Chromium/Chrome executable.`,
    );
  }
  return chromium.launch({
    executablePath,
    headless: opts.headless ?? true,
    args: chromiumArgs(opts.webgpu, opts.extraArgs),
    // Playwright's default handlers close the browser on Ctrl-C, under the episode in flight
    // (recorded as a failure). vlalab handles the signals itself (interrupt.ts).
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
}
