import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controllerUrl, waitForActiveWorker } from '../support/app-page.js';
import { selectedEngines, skipEngine, type BrowserPage, type BrowserSession } from '../support/browsers/index.js';

const serverScript = fileURLToPath(new URL('../../examples/items/server.mjs', import.meta.url));

/** Starts the example's own server, as `npm start` does, on a free port. */
async function startExample(): Promise<{ child: ChildProcess; origin: string }> {
  const child = spawn(process.execPath, [serverScript], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  // Read its output to the end: the server logs every request.
  child.stdout!.on('data', (chunk) => (out += String(chunk)));
  const until = Date.now() + 10_000;
  while (Date.now() < until && child.exitCode === null) {
    const origin = /http:\/\/127\.0\.0\.1:\d+/.exec(out)?.[0];
    if (origin) return { child, origin };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill();
  throw new Error(`the example server did not start:\n${out}`);
}

const listedItems = (page: BrowserPage) =>
  page.evaluate(async () => {
    for (let i = 0; i < 100 && !document.querySelector('#items li'); i++) await new Promise((r) => setTimeout(r, 50));
    return Array.from(document.querySelectorAll('#items li'), (li) => li.textContent);
  });

describe.each(selectedEngines())('the items example in $name', (engine) => {
  describe.skipIf(skipEngine(engine))(engine.name, () => {
    let example: { child: ChildProcess; origin: string };
    let browser: BrowserSession;

    beforeAll(async () => {
      example = await startExample();
      browser = await engine.launch();
    });

    afterAll(async () => {
      await browser?.close();
      if (example?.child.exitCode === null) example.child.kill();
    });

    it('opens with its list after the server has stopped', async () => {
      const page = await browser.newPage();
      await page.goto(`${example.origin}/`);
      await waitForActiveWorker(page);
      await page.reload();
      expect(await controllerUrl(page)).not.toBeNull();
      expect(await listedItems(page)).toEqual(['Milk', 'Bread']);

      example.child.kill();
      await once(example.child, 'exit');
      await page.reload();
      expect(await page.evaluate(() => document.querySelector('h1')?.textContent)).toBe('Items');
      expect(await listedItems(page)).toEqual(['Milk', 'Bread']);
      expect(await page.evaluate(() => document.getElementById('status')?.textContent)).toMatch(/^List from the server at /);
    });
  });
});
