import type { SamplesBuffer } from '../samples-buffer.js';
import { WIRE_I64, WIRE_VARINT, type WireReader, wrongWireType } from './wire.js';

/**
 * Decodes the Sample message at [start, end) into `out`: value (field 1, its 8 bytes copied as
 * they are) and timestamp (field 2). In remote write 2.0 field 3 is the start timestamp, which is
 * checked for its wire type and ignored; in 1.0 it is an unknown field and skipped.
 */
export function decodeSample(r: WireReader, start: number, end: number, out: SamplesBuffer, hasStartTimestamp: boolean): void {
  r.pos = start;
  r.end = end;
  let timestamp = 0;
  let valueAt = -1;
  while (!r.atEnd()) {
    const tag = r.tag('Sample');
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 1) {
      if (wireType !== WIRE_I64) throw wrongWireType(field, wireType, 'Sample');
      valueAt = r.fixed64At('Sample.value');
    } else if (field === 2 || (field === 3 && hasStartTimestamp)) {
      if (wireType !== WIRE_VARINT) throw wrongWireType(field, wireType, 'Sample');
      const t = r.int64('sample timestamp');
      if (field === 2) timestamp = t;
    } else {
      r.skip(wireType, 'Sample');
    }
  }
  if (valueAt >= 0) out.pushWire(timestamp, r.buf, valueAt);
  else out.pushZero(timestamp);
}
