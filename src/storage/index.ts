export { Storage } from './storage.js';
export type { HeadFlush, StorageOptions } from './storage.js';
export type * from './types.js';
