// The manifest's types live in common/ (the page reads `changes` too); the worker's modules import them from here.
export type * from '../../common/manifest.js';
