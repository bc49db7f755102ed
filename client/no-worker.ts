/** Why a page has no service worker to use, in words that say what to do. */
export const whyNoWorker = (): string =>
  window.isSecureContext
    ? 'this browser has no service workers, or they are disabled (private mode?)'
    : `${location.origin} is not a secure origin; serve the app over HTTPS (or from localhost)`;
