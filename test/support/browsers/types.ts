/**
 * One small abstraction over the three engines' drivers, so every end-to-end
 * scenario is written once and runs in Chromium, Firefox and WebKit.
 *
 * Everything crosses the driver boundary as JSON: `evaluate` sends the source
 * of a function and its arguments, and gets the (awaited) return value back.
 */
export type EngineName = 'chromium' | 'firefox' | 'webkit';

export interface BrowserPage {
  /** Navigates and resolves once the `load` event has fired. */
  goto(url: string): Promise<void>;
  /** Reloads and resolves once the `load` event has fired. */
  reload(): Promise<void>;
  /** The page's current URL. */
  url(): Promise<string>;
  /**
   * Runs `fn` (the source of a function, sync or async) in the page with
   * `args`, awaits it and returns its JSON-serialisable result. A throw or a
   * rejection in the page rejects here with the page's message.
   */
  evaluate<T = unknown>(fn: string | ((...args: never[]) => unknown), ...args: unknown[]): Promise<T>;
  /**
   * Saves a PNG of the first element `selector` matches (shadow roots
   * included) to `path`. Only Chromium's driver has it.
   */
  screenshot?(selector: string, path: string): Promise<void>;
  close(): Promise<void>;
}

export interface BrowserSession {
  readonly engine: EngineName;
  /** The browser's own version string, for test reports. */
  readonly version: string;
  /** Whether the engine exposes `SyncManager` (only Chromium does). */
  readonly hasBackgroundSync: boolean;
  /** A new tab in this session's single profile (it shares service workers and storage). */
  newPage(): Promise<BrowserPage>;
  /**
   * Stops every running service worker (DevTools `ServiceWorker.stopAllWorkers`).
   * Only Chromium can; the others reject with a clear error.
   */
  stopServiceWorkers(): Promise<void>;
  /**
   * Takes the whole profile off the network, service workers included, as
   * DevTools' "Offline" does; going back online fires Background Sync.
   * Only Chromium can (other engines: unplug the test server instead).
   */
  setOffline?(offline: boolean): Promise<void>;
  /**
   * Fires a Background Sync event at the origin's worker, as the browser does
   * when connectivity returns (DevTools `ServiceWorker.dispatchSyncEvent`).
   * Only Chromium can.
   */
  dispatchSync?(origin: string, tag: string, lastChance?: boolean): Promise<void>;
  /** Closes the browser and everything it started (driver, Xvfb), and removes its profile. */
  close(): Promise<void>;
}

/** Thrown by a launcher when the engine's binaries are not installed. */
export class BrowserMissingError extends Error {
  override readonly name = 'BrowserMissingError';
  constructor(
    readonly engine: EngineName,
    readonly missing: string,
    readonly install: string,
  ) {
    super(`${engine}: ${missing} not found; install it with: ${install}`);
  }
}

export interface LaunchOptions {
  /** Folder for the fresh profile; the launcher creates and removes its own when absent. */
  profileDir?: string;
}
