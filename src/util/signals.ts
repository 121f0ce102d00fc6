/**
 * Stop requests from outside: Ctrl-C (SIGINT), SIGTERM, and, for a process a
 * parent started with an IPC channel (nn tune's trials), the parent going away.
 * The first request asks for a clean stop; a second signal asks to quit at once.
 * Nothing here prints or exits: the callers decide.
 */

export type StopCause = NodeJS.Signals | 'parent gone';

/** 128 + the signal's number, as shells report a process ended by it. */
export function exitCodeOf(sig: StopCause): number {
  return sig === 'SIGTERM' || sig === 'parent gone' ? 143 : 130;
}

/**
 * Calls `first` on the first stop request and `again` on every later signal, until the
 * returned function is called. `withParent`: a lost IPC channel counts as a request too.
 */
export function watchStopRequests(first: (cause: StopCause) => void, again: (cause: StopCause) => void, withParent = false): () => void {
  let asked = false;
  const on = (cause: StopCause) => {
    if (asked) return again(cause);
    asked = true;
    first(cause);
  };
  const onInt = () => on('SIGINT');
  const onTerm = () => on('SIGTERM');
  const onGone = () => on('parent gone');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const parent = withParent && process.channel ? process : null;
  if (parent) {
    parent.channel!.unref(); // the channel alone must not keep the process alive
    parent.on('disconnect', onGone);
  }
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    parent?.off('disconnect', onGone);
  };
}
