// Parquet tables for dataset exports, through hyparquet-writer (pure JS, MIT; hyparam/hyparquet-writer).
//
// A thin typed layer: each column says what it holds, and the schema is written the way pyarrow
// writes the same Arrow types (optional fields; lists as the standard three-level LIST group
// `<name> (LIST) { repeated group list { optional <type> element } }`), so pandas, pyarrow and
// Hugging Face `datasets` read the files as float32 / int64 / float64 / string / list columns.
import { parquetWriteFile } from 'hyparquet-writer';

export type Column =
  | { name: string; type: 'float32' | 'float64' | 'int64'; data: number[] | Float32Array | Float64Array }
  | { name: string; type: 'string'; data: string[] }
  | { name: string; type: 'float32[]'; data: ArrayLike<number>[] }
  | { name: string; type: 'string[]'; data: string[][] };

interface SchemaElement {
  name: string;
  type?: 'FLOAT' | 'DOUBLE' | 'INT64' | 'BYTE_ARRAY';
  converted_type?: 'UTF8' | 'LIST';
  repetition_type?: 'OPTIONAL' | 'REPEATED' | 'REQUIRED';
  num_children?: number;
}

const LEAF = {
  float32: { type: 'FLOAT' },
  float64: { type: 'DOUBLE' },
  int64: { type: 'INT64' },
  string: { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
} as const;

function schemaOf(cols: Column[]): SchemaElement[] {
  const schema: SchemaElement[] = [{ name: 'schema', num_children: cols.length }];
  for (const c of cols) {
    if (c.type === 'float32[]' || c.type === 'string[]') {
      schema.push(
        { name: c.name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', repetition_type: 'OPTIONAL', ...LEAF[c.type === 'float32[]' ? 'float32' : 'string'] },
      );
    } else {
      schema.push({ name: c.name, repetition_type: 'OPTIONAL', ...LEAF[c.type] });
    }
  }
  return schema;
}

export interface WriteTableOptions {
  /** Rows per row group; an array gives each group's size (e.g. one group per episode, as LeRobot writes). */
  rowGroups?: number[];
  /** File key-value metadata (e.g. "pandas" for a DataFrame index). */
  kvMetadata?: Record<string, string>;
}

/** Writes `cols` (all the same length) as one Parquet file, snappy-compressed. */
export function writeParquet(path: string, cols: Column[], o: WriteTableOptions = {}): void {
  const rows = cols[0]?.data.length ?? 0;
  for (const c of cols) {
    if (c.data.length !== rows) throw new Error(`${path}: column "${c.name}" has ${c.data.length} rows, "${cols[0].name}" has ${rows}`);
  }
  if (o.rowGroups && o.rowGroups.reduce((a, b) => a + b, 0) !== rows) throw new Error(`${path}: row groups sum to ${o.rowGroups.reduce((a, b) => a + b, 0)}, not ${rows} rows`);
  parquetWriteFile({
    filename: path,
    schema: schemaOf(cols),
    columnData: cols.map((c) => ({
      name: c.name,
      data: c.type === 'int64' ? Array.from(c.data, (v) => BigInt(v)) : c.type === 'float32[]' ? c.data.map((r) => Array.from(r)) : c.data,
    })),
    rowGroupSize: o.rowGroups && o.rowGroups.length ? o.rowGroups : Math.max(rows, 1),
    kvMetadata: Object.entries(o.kvMetadata ?? {}).map(([key, value]) => ({ key, value })),
    createdBy: 'vlalab (hyparquet-writer)',
  });
}
