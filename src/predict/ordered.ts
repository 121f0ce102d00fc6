/**
 * Runs fn over items with at most `limit` calls in flight and yields the
 * results in the items' order as soon as each, and all before it, is done:
 * output streams in input order while later items are already under way.
 * A call that throws yields its error in its place; the rest go on.
 */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

export async function* orderedMap<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): AsyncGenerator<Settled<R>> {
  const pending = new Map<number, Promise<Settled<R>>>();
  let next = 0;
  const launch = () => {
    while (next < items.length && pending.size < limit) {
      const i = next++;
      pending.set(i, fn(items[i], i).then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error })));
    }
  };
  for (let i = 0; i < items.length; i++) {
    launch();
    const r = await pending.get(i)!;
    pending.delete(i);
    yield r;
  }
}
