// Launches Debian's Chromium headless through playwright-core, with or without a WebGPU adapter.
import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BASE_FLAGS = ['--headless', '--no-sandbox', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-gpu'];

/** `webgpu`: true adds --enable-unsafe-webgpu (SwiftShader's software adapter); false leaves the
 *  page without an adapter, so the app must fall back to its CPU backend. `flags`: more flags. */
export async function launch({ webgpu, flags = [] }) {
  const dir = mkdtempSync(join(tmpdir(), 'nuner-chromium-'));
  const args = [...BASE_FLAGS, ...(webgpu ? ['--enable-unsafe-webgpu'] : []), ...flags];
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args,
    viewport: { width: 1100, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const logs = [];
  page.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));
  return { context, page, logs };
}
