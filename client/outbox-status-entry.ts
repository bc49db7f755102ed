/**
 * `dist/outbox-status.js`: defines `<outbox-status>`. register.js loads it
 * only when its tag has `data-ui`, and has already mounted the element by
 * then: defining it upgrades that element, which then shows the outbox of
 * `window.offlineOutbox`. Kept out of register.js so that pages without the
 * element do not download it.
 */
import { defineOutboxStatus } from './outbox-status.js';

defineOutboxStatus();
