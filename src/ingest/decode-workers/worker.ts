/** The decode worker thread: snappy and the protobuf walk of remote write bodies (see DecodePool). */
import { parentPort } from 'node:worker_threads';
import { errorMessage, isMetricstorError } from '../../errors.js';
import { scanWriteRequestV1, type ScannedWriteV1 } from '../remote-write/scan-v1.js';
import { decodeSnappyBlock } from '../remote-write/snappy-block.js';
import { WorkerLabelIds } from './label-ids.js';
import { ownedBytes, type DecodeJob, type DecodeReply } from './protocol.js';

const labelIds = new WorkerLabelIds();

interface Answer {
  readonly reply: DecodeReply;
  readonly transfer: ArrayBuffer[];
}

function answer(job: DecodeJob): Answer {
  let body: Uint8Array;
  try {
    body = ownedBytes(decodeSnappyBlock(job.body, job.maxDecodedBytes));
  } catch (err) {
    const reply: DecodeReply = isMetricstorError(err)
      ? { id: job.id, kind: 'refused', errorType: err.type, message: err.message }
      : { id: job.id, kind: 'failed', message: errorMessage(err) };
    return { reply, transfer: [] };
  }
  let scan: ScannedWriteV1 | undefined;
  if (job.version === '1.0') {
    try {
      scan = scanWriteRequestV1(body);
    } catch {
      scan = undefined;
    }
  }
  if (scan === undefined) return { reply: { id: job.id, kind: 'decompressed', body }, transfer: [body.buffer as ArrayBuffer] };
  const ids = labelIds.assign(scan);
  return {
    reply: { id: job.id, kind: 'scanned', scan, labelIds: ids, labelGeneration: labelIds.generation },
    transfer: [body, scan.series, scan.timestamps, scan.valueBytes, ids].map((a) => a.buffer as ArrayBuffer),
  };
}

const port = parentPort;
if (port === null) throw new Error('the decode worker must run in a worker thread');
port.on('message', (job: DecodeJob) => {
  const { reply, transfer } = answer(job);
  port.postMessage(reply, transfer);
});
