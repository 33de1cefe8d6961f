export { XorAppender, MAX_SAMPLES_PER_CHUNK } from './xor-appender.js';
export { XorIterator, chunkNumSamples } from './xor-iterator.js';
export { decodeXorChunk, decodeXorInto } from './xor-decode.js';
export { ChunkCorruptError } from './errors.js';
export { PooledByteBlocks, type ByteBlocks } from './byte-blocks.js';
export { bufferWordsOf } from '../model/float-words.js';
