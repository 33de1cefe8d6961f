import { MetricstorError } from '../errors.js';

/** The bytes of a stored chunk are not a valid XOR chunk. Always a bug or damaged data, never a user error. */
export class ChunkCorruptError extends MetricstorError {
  /** What is wrong and where, without the common prefix. */
  readonly detail: string;

  constructor(detail: string) {
    super('internal', `corrupt XOR chunk: ${detail}`);
    this.name = 'ChunkCorruptError';
    this.detail = detail;
  }
}
