/** The part of better-sqlite3 12's API the engine comparison uses (the package ships no types). */
declare module "better-sqlite3" {
  interface Statement {
    run(...params: unknown[]): unknown;
    all(...params: unknown[]): unknown[];
  }
  interface Database {
    exec(sql: string): void;
    prepare(sql: string): Statement;
    transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
    close(): void;
  }
  const Database: new (file: string) => Database;
  export default Database;
}
