/**
 * What differs between the search a study was started with and the one asked
 * for now: a study goes on only with the same base config, space, metric,
 * method, seed and pruner (the budget, timeout and workers may change).
 */
import type { StudyDefinition } from './file';
import { sameValue, showValue } from './space';

/** null when the two define the same search; else one phrase naming the first difference. */
export function definitionDiff(was: StudyDefinition, now: StudyDefinition): string | null {
  const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
  for (const key of ['metric', 'method', 'seed', 'startupTrials'] as const) {
    if (was[key] !== now[key]) return `${key} was ${showValue(was[key])}, now ${showValue(now[key])}`;
  }
  if (!sameValue(plain(was.pruner), plain(now.pruner))) return `pruner was ${JSON.stringify(was.pruner)}, now ${JSON.stringify(now.pruner)}`;
  const before = new Map(was.space.map((p) => [p.path, p]));
  const after = new Map(now.space.map((p) => [p.path, p]));
  for (const [path, p] of after) {
    const q = before.get(path);
    if (!q) return `the search space gained ${path}`;
    if (!sameValue(plain(q), plain(p))) return `the search space's ${path} was ${JSON.stringify(plain({ ...q.spec, when: q.when }))}, now ${JSON.stringify(plain({ ...p.spec, when: p.when }))}`;
  }
  for (const path of before.keys()) if (!after.has(path)) return `the search space lost ${path}`;
  const d = firstDifference(plain(was.base), plain(now.base), '');
  return d ? `the base config's ${d}` : null;
}

/** The first dotted path where a and b differ, with both values. */
function firstDifference(a: unknown, b: unknown, at: string): string | null {
  const isObj = (v: unknown) => v !== null && typeof v === 'object';
  if (isObj(a) && isObj(b) && Array.isArray(a) === Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])];
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], at ? `${at}.${k}` : k);
      if (d) return d;
    }
    return null;
  }
  if (sameValue(a, b)) return null;
  const show = (v: unknown) => (v === undefined ? '(none)' : JSON.stringify(v));
  return `${at || '(top level)'} was ${show(a)}, now ${show(b)}`;
}

/** The part of a tune file that fixes its study. */
export function definitionOf(spec: StudyDefinition): StudyDefinition {
  const { base, space, metric, method, seed, startupTrials, pruner } = spec;
  return { base, space, metric, method, seed, startupTrials, pruner };
}
