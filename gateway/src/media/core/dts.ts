// Decode timestamps for pictures that come in decode order with presentation timestamps only (RTP carries PTS).

/**
 * DtsDeriver gives each picture a decode timestamp that only grows and does not pass its presentation timestamp,
 * without waiting for later pictures. With pictures reordered by at most `reorder` places (B-frames; the SPS says
 * how far), picture i is decoded at the (i - reorder)-th smallest presentation time seen so far: that value is final
 * once picture i has come, because a picture can come at most `reorder` places before its turn on screen. The first
 * `reorder` pictures are spaced one frame duration apart before the first presentation time.
 */
export class DtsDeriver {
  readonly reorder: number;
  #frameTicks: number;
  #heap: number[] = [];
  #count = 0;
  #first = 0;
  #lastDts = -Infinity;
  #lastPts: number | undefined;

  constructor(reorder: number, frameTicks: number) {
    this.reorder = Math.max(0, Math.min(reorder, 16));
    this.#frameTicks = frameTicks > 0 ? frameTicks : 3600;
  }

  /** next returns the decode timestamp of the next picture in decode order. */
  next(pts: number): number {
    // The frame duration follows the camera: the smallest step between neighbouring presentation times.
    if (this.#lastPts !== undefined) {
      const step = Math.abs(pts - this.#lastPts);
      if (step > 0 && step < this.#frameTicks) this.#frameTicks = step;
    }
    this.#lastPts = pts;
    let dts: number;
    if (this.reorder === 0) dts = pts;
    else {
      push(this.#heap, pts);
      if (this.#count === 0) this.#first = pts;
      dts = this.#count < this.reorder ? this.#first - (this.reorder - this.#count) * this.#frameTicks : pop(this.#heap);
      // A heap larger than the window holds values too old to matter (a reorder deeper than the SPS said).
      while (this.#heap.length > this.reorder + 1) pop(this.#heap);
    }
    this.#count++;
    // Never back, never equal: a camera that repeats a timestamp still gets a decode order.
    if (dts <= this.#lastDts) dts = this.#lastDts + 1;
    this.#lastDts = dts;
    return dts;
  }
}

function push(h: number[], v: number): void {
  h.push(v);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (h[p]! <= h[i]!) break;
    [h[p], h[i]] = [h[i]!, h[p]!];
    i = p;
  }
}

function pop(h: number[]): number {
  const top = h[0]!;
  const last = h.pop()!;
  if (h.length > 0) {
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l]! < h[m]!) m = l;
      if (r < h.length && h[r]! < h[m]!) m = r;
      if (m === i) break;
      [h[m], h[i]] = [h[i]!, h[m]!];
      i = m;
    }
  }
  return top;
}
