/** The decode worker thread: snappy and the protobuf walk of remote write bodies (see DecodePool). */
import { parentPort } from 'node:worker_threads';
import { errorMessage, isMetricstorError } from '../../errors.js';
import { scanWriteRequestV1, type ScannedWriteV1 } from '../remote-write/scan-v1.js';
import { decodeSnappyBlockInto } from '../remote-write/snappy-block.js';
import { BufferPool } from './buffer-pool.js';
import { WorkerLabelIds } from './label-ids.js';
import { replyBuffers, type DecodeJob, type DecodeReply, type WorkerMessage } from './protocol.js';

const labelIds = new WorkerLabelIds();
/** Every typed array of a reply is taken from here, and comes back here when the main thread is done with it. */
const buffers = new BufferPool();

function answer(job: DecodeJob): DecodeReply {
  let body: Uint8Array;
  try {
    body = decodeSnappyBlockInto(job.body, job.maxDecodedBytes, (bytes) => buffers.take(bytes));
  } catch (err) {
    return isMetricstorError(err)
      ? { id: job.id, kind: 'refused', errorType: err.type, message: err.message }
      : { id: job.id, kind: 'failed', message: errorMessage(err) };
  }
  let scan: ScannedWriteV1 | undefined;
  if (job.version === '1.0') {
    try {
      scan = scanWriteRequestV1(body, buffers);
    } catch {
      scan = undefined;
    }
  }
  if (scan === undefined) return { id: job.id, kind: 'decompressed', body, allocatedBytes: buffers.allocatedBytes };
  const ids = labelIds.assign(scan, buffers);
  return { id: job.id, kind: 'scanned', scan, labelIds: ids, labelGeneration: labelIds.generation, allocatedBytes: buffers.allocatedBytes };
}

const port = parentPort;
if (port === null) throw new Error('the decode worker must run in a worker thread');
port.on('message', (message: WorkerMessage) => {
  if (message.kind === 'recycle') {
    for (const buffer of message.buffers) buffers.give(buffer);
    return;
  }
  const reply = answer(message);
  port.postMessage(reply, replyBuffers(reply));
});
