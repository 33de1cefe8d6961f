import type { IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { MetricstorError, badData } from '../errors.js';

/**
 * Reads a request body of at most maxBytes. A Content-Length over the limit is refused before
 * reading; a body that grows past it is refused as soon as it does.
 */
export async function readBodyLimited(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    throw new MetricstorError('too_large', `request body of ${declared} bytes is larger than the limit of ${maxBytes}`);
  }
  const chunks: Buffer[] = [];
  let sizeBytes = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    sizeBytes += buf.length;
    if (sizeBytes > maxBytes) {
      throw new MetricstorError('too_large', `request body is larger than the limit of ${maxBytes} bytes`);
    }
    chunks.push(buf);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, sizeBytes);
}

/** Gunzips with the output capped at maxDecodedBytes. */
export function gunzipLimited(body: Buffer, maxDecodedBytes: number): Buffer {
  try {
    return gunzipSync(body, { maxOutputLength: maxDecodedBytes });
  } catch (err) {
    if (err instanceof RangeError || (err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new MetricstorError('too_large', `gzip body decodes to more than the limit of ${maxDecodedBytes} bytes`);
    }
    throw badData(`gzip: corrupt body: ${err instanceof Error ? err.message : String(err)}`);
  }
}
