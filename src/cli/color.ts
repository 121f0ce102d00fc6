/** Colors only on a terminal, and never when NO_COLOR is set (https://no-color.org). */

/** text in ANSI color `code` (31 red, 33 yellow) when `stream` is a terminal and NO_COLOR is unset; plain otherwise. */
export function paint(text: string, code: number, stream: NodeJS.WriteStream = process.stderr): string {
  return stream.isTTY && !process.env.NO_COLOR ? `\x1b[${code}m${text}\x1b[0m` : text;
}
