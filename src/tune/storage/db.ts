/**
 * The two databases a study can live in, behind one small interface: SQLite
 * embedded in the study folder (nothing to install or start), or a PostgreSQL
 * server that several machines share. The SQL is written once, in PostgreSQL's
 * words; each adapter turns the few that differ into its own:
 *   $1, $2 ...  parameters
 *   {now}       the database's clock in milliseconds (one clock for every machine of a study)
 *   {lock}      FOR UPDATE: the row stays locked until the transaction ends
 *   {skip}      FOR UPDATE SKIP LOCKED: rows another transaction holds are passed over
 */

export type Row = Record<string, unknown>;

export interface Db {
  readonly kind: 'sqlite' | 'postgres';
  /** Where it is, for messages (a path, or the URL without its password). */
  readonly where: string;
  query(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Runs fn in one transaction: all of it or none (the caller serializes transactions). */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The URL with its password hidden, for messages and files. */
export function redactUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:@/]*):[^@/]*@/, '$1:***@');
}

/** The URL without its password, to be written down (the driver then takes PGPASSWORD or ~/.pgpass). */
export function stripPassword(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:@/]*):[^@/]*@/, '$1@');
}
