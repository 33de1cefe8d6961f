export { Storage } from './storage.js';
export { appendBatchOf } from './append-batch.js';
export type { HeadFlush, StorageOptions, StorageRuntimeStats } from './storage.js';
export type * from './types.js';
