/**
 * The frame of an end-to-end scenario in one engine: a test server set up by
 * the scenario, a fresh browser profile and a page, torn down after; the
 * server is plugged back after each test, so a failed step never leaves the
 * next test offline.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { BrowserPage, BrowserSession, engines } from './browsers/index.js';
import { startTestServer, type TestServer } from './test-server.js';

export interface Scenario {
  readonly server: TestServer;
  readonly browser: BrowserSession;
  readonly page: BrowserPage;
}

/** Call inside a describe block; read the fields inside tests. */
export function useScenario(engine: (typeof engines)[number], setup: (server: TestServer) => void): Scenario {
  const state: { -readonly [K in keyof Scenario]?: Scenario[K] } = {};
  beforeAll(async () => {
    const server = await startTestServer();
    state.server = server;
    setup(server);
    state.browser = await engine.launch();
    state.page = await state.browser.newPage();
  });
  afterEach(() => state.server?.plug());
  afterAll(async () => {
    await state.browser?.close();
    await state.server?.close();
  });
  return state as Scenario;
}
