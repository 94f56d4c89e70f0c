// A time-ordered list of items for one tenant: `count` generated items whose times come from a
// function of their index (never stored), merged with items added while the emulator runs (stored).
// Positions are (time, source, index) tuples, which gives a total order that page keys and SIEM
// cursors can encode exactly.

/** A position in a series: source 0 = generated item `i`, source 1 = added item `i`. */
export interface Pos {
  t: number;
  s: number;
  i: number;
}

export function cmpPos(a: Pos, b: Pos): number {
  return a.t - b.t || a.s - b.s || a.i - b.i;
}

export interface AddedItem {
  t: number;
  /** Rendered JSON text, fixed when the item was added. */
  json: string;
  /** The SIEM rendering of an added alert. */
  siem?: string;
  /** SIEM event type, for exclude_types. */
  type?: string;
}

export class Series {
  /** Added items, sorted by (t, index); their index is their position in insertion order. */
  readonly added: Array<AddedItem & { i: number }> = [];

  constructor(readonly count: number, readonly timeAt: (k: number) => number) {}

  add(item: AddedItem): Pos {
    const entry = { ...item, i: this.added.length };
    let lo = 0;
    let hi = this.added.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.added[mid]!.t <= entry.t) lo = mid + 1;
      else hi = mid;
    }
    this.added.splice(lo, 0, entry);
    return { t: entry.t, s: 1, i: entry.i };
  }

  /** Smallest generated k whose position is >= p (count when none). */
  private genLower(p: Pos): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cmpPos({ t: this.timeAt(mid), s: 0, i: mid }, p) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private addLower(p: Pos): number {
    let lo = 0;
    let hi = this.added.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const a = this.added[mid]!;
      if (cmpPos({ t: a.t, s: 1, i: a.i }, p) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Visits items in ascending order from `from` (inclusive) while `visit` returns true. An item is
   * passed as (position, added item or undefined for a generated one).
   */
  ascending(from: Pos, visit: (p: Pos, added: AddedItem | undefined) => boolean): void {
    let g = this.genLower(from);
    let a = this.addLower(from);
    let gt = g < this.count ? this.timeAt(g) : Infinity;
    for (;;) {
      const nextAdded = this.added[a];
      // Generated items sort before added ones at the same time (source 0 < 1).
      if (g < this.count && (!nextAdded || gt <= nextAdded.t)) {
        if (!visit({ t: gt, s: 0, i: g }, undefined)) return;
        g++;
        gt = g < this.count ? this.timeAt(g) : Infinity;
      } else if (nextAdded) {
        if (!visit({ t: nextAdded.t, s: 1, i: nextAdded.i }, nextAdded)) return;
        a++;
      } else {
        return;
      }
    }
  }

  /** Visits items in descending order from `from` (inclusive) while `visit` returns true. */
  descending(from: Pos, visit: (p: Pos, added: AddedItem | undefined) => boolean): void {
    const after = { t: from.t, s: from.s, i: from.i + 1 };
    let g = this.genLower(after) - 1;
    let a = this.addLower(after) - 1;
    let gt = g >= 0 ? this.timeAt(g) : -Infinity;
    for (;;) {
      const prevAdded = a >= 0 ? this.added[a] : undefined;
      if (prevAdded && (g < 0 || prevAdded.t >= gt)) {
        if (!visit({ t: prevAdded.t, s: 1, i: prevAdded.i }, prevAdded)) return;
        a--;
      } else if (g >= 0) {
        if (!visit({ t: gt, s: 0, i: g }, undefined)) return;
        g--;
        gt = g >= 0 ? this.timeAt(g) : -Infinity;
      } else {
        return;
      }
    }
  }
}
