/** Parsers for numeric command-line options, failing with one clear line. */
import { InvalidArgumentError } from 'commander';

export function intOption(name: string, min: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number >= ${min}.`);
    return n;
  };
}
