/** The bit pattern of Prometheus's staleness marker, 0x7ff0000000000002, as two 32-bit halves. */
export const STALE_NAN_BITS_HI = 0x7ff00000;
export const STALE_NAN_BITS_LO = 0x00000002;
