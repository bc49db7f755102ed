/**
 * Imported first by the drop-in worker (sw-entry.ts): the database starts
 * opening before the rest of the script is evaluated. A stopped worker that
 * the browser starts for a request reads its stored manifest before it can
 * route it; opening the database is most of that read, and the browser does
 * it in parallel with the script's evaluation. A failure is left for the
 * first real use to report (openDatabase forgets a failed attempt).
 */
import { openDatabase } from './db.js';

void openDatabase().catch(() => {});
