let cached = 0;
let fresh = false;
const expire = (): void => {
  fresh = false;
};
// A native promise reaction: cheaper than `queueMicrotask`, which Node wraps for async hooks.
const settled = Promise.resolve();

/**
 * Epoch milliseconds, read from `Date.now()` at most once per synchronous
 * run of JavaScript: every later call before the next microtask checkpoint
 * returns the same value.
 *
 * `ws` parses every frame of one TCP read synchronously, so the frames of one
 * read share one clock read; on a virtual machine `Date.now()` can cost
 * ~100 ns, as much as the rest of honeybee's per-message work together.
 *
 * @example
 * ```ts
 * const at = tickNow(); // Date.now() here…
 * tickNow() === at;     // …and the cached value until the next microtask
 * ```
 */
export function tickNow(): number {
  if (fresh) return cached;
  fresh = true;
  void settled.then(expire);
  return (cached = Date.now());
}
