export { XorAppender, MAX_SAMPLES_PER_CHUNK } from './xor-appender.js';
export { XorIterator, decodeXorChunk, chunkNumSamples } from './xor-iterator.js';
export { ChunkCorruptError } from './errors.js';
export { bufferWordsOf } from './float-words.js';
