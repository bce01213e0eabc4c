import { SqlFamily } from './dialect';

// Column types per database and the CREATE TABLE / CREATE INDEX statements the migration steps are written in.

export interface Types {
  /** Short identifiers (ids, names, statuses): sortable, indexable, byte-wise compared. */
  key: (length: number) => string;
  text: string;
  big: string;
  int: string;
  small: string;
  double: string;
}

export function types(family: SqlFamily): Types {
  switch (family) {
    case 'postgres':
      return {
        key: (n) => `VARCHAR(${n}) COLLATE "C"`,
        text: 'TEXT',
        big: 'BIGINT',
        int: 'INTEGER',
        small: 'SMALLINT',
        double: 'DOUBLE PRECISION',
      };
    case 'mysql':
      // The table's binary collation makes comparisons exact and case-sensitive.
      return { key: (n) => `VARCHAR(${n})`, text: 'LONGTEXT', big: 'BIGINT', int: 'INT', small: 'SMALLINT', double: 'DOUBLE' };
    case 'sqlite':
      return { key: () => 'TEXT', text: 'TEXT', big: 'INTEGER', int: 'INTEGER', small: 'INTEGER', double: 'REAL' };
  }
}

export interface TableDef {
  name: string;
  columns: string[];
  primaryKey: string[];
  /** MySQL only: extra inline keys (AUTO_INCREMENT needs one). */
  mysqlKeys?: string[];
}

export interface IndexDef {
  name: string;
  table: string;
  columns: string[];
  /** PostgreSQL/SQLite: a partial index on the rows matching this condition. */
  where?: string;
  /** MySQL (no partial indexes): these columns instead. */
  mysqlColumns?: string[];
}

export function createTableSql(family: SqlFamily, table: TableDef, indexes: IndexDef[], collation: string | null): string {
  const q = (n: string) => (family === 'mysql' ? `\`${n}\`` : `"${n}"`);
  const parts = [...table.columns];
  if (table.primaryKey.length) parts.push(`PRIMARY KEY (${table.primaryKey.join(', ')})`);
  if (family === 'mysql') {
    parts.push(...(table.mysqlKeys ?? []));
    for (const index of indexes.filter((i) => i.table === table.name)) {
      parts.push(`KEY ${q(index.name)} (${(index.mysqlColumns ?? index.columns).join(', ')})`);
    }
    const collate = collation ? ` COLLATE=${collation}` : '';
    return `CREATE TABLE IF NOT EXISTS ${q(table.name)} (${parts.join(', ')}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4${collate}`;
  }
  return `CREATE TABLE IF NOT EXISTS ${q(table.name)} (${parts.join(', ')})`;
}

export function createIndexSql(family: SqlFamily, index: IndexDef): string | null {
  if (family === 'mysql') return null; // inline in CREATE TABLE
  const where = index.where ? ` WHERE ${index.where}` : '';
  return `CREATE INDEX IF NOT EXISTS "${index.name}" ON "${index.table}" (${index.columns.join(', ')})${where}`;
}

export function createStatements(family: SqlFamily, step: { tables: TableDef[]; indexes: IndexDef[] }, collation: string | null): string[] {
  return [
    ...step.tables.map((table) => createTableSql(family, table, step.indexes, collation)),
    ...step.indexes.map((index) => createIndexSql(family, index)).filter((s): s is string => s !== null),
  ];
}
