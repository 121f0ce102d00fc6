/**
 * Errors the user can act on. The core throws these; only src/cli/errors.ts
 * turns them into a message line and an exit code.
 * exitCode 2: usage and input errors (bad config, bad file, bad option); 1: anything else.
 */
export class UserError extends Error {
  constructor(message: string, readonly exitCode: number = 2) {
    super(message);
    this.name = 'UserError';
  }
}
