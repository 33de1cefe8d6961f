/**
 * One copy of each label name and value that ingest keeps for long: thousands of series share a
 * few dozen names and many values (instance, job, mode, device...), and each decoded string would
 * otherwise stay in memory once per series. Bounded: when it holds `maxEntries` strings it starts
 * again empty (strings in use stay alive; only later duplicates are no longer shared with them).
 */
export class StringPool {
  private strings = new Map<string, string>();

  constructor(private readonly maxEntries = 65_536) {}

  /** The pooled string equal to `s`, adding `s` when there is none. */
  intern(s: string): string {
    const known = this.strings.get(s);
    if (known !== undefined) return known;
    if (this.strings.size >= this.maxEntries) this.strings = new Map();
    this.strings.set(s, s);
    return s;
  }

  get size(): number {
    return this.strings.size;
  }
}

/** The pool of label names and values decoded from remote-write requests. */
export const labelStrings = new StringPool();
