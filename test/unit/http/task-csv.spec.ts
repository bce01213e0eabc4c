import { TaskRecord } from '../../../lib';
import { csvCell, csvHeader, csvLine, csvRow } from '../../../lib/http/task-csv';

const record = {
  task_id: 't1',
  func_name: 'Jobs.ok',
  status: 'failed',
  source: 'api',
  priority: null,
  created_at: '2026-01-01T00:00:00.000Z',
  start_time: null,
  end_time: null,
  duration: 1.5,
  retries_used: 0,
  progress: null,
  run_at: '2026-01-01T00:05:00.000Z',
  tags: { team: 'a' },
  error: '=HYPERLINK("x")',
  args: [1, { b: 2n }],
} as unknown as TaskRecord;

describe('task CSV', () => {
  it('defuses cells a spreadsheet would run as a formula', () => {
    for (const lead of ['=', '+', '-', '@', '\t', '\r']) expect(csvCell(`${lead}1`).replace(/^"|"$/g, '')).toBe(`'${lead}1`);
    expect(csvCell('a=1')).toBe('a=1');
    expect(csvCell(-1)).toBe('-1');
  });

  it('quotes per RFC 4180 and leaves null and non-finite numbers empty', () => {
    expect(csvCell('a,"b"')).toBe('"a,""b"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell(null)).toBe('');
    expect(csvCell(Number.NaN)).toBe('');
    expect(csvCell(Infinity)).toBe('');
    expect(csvLine(['a', 1, null])).toBe('a,1,\r\n');
  });

  it('writes the header and a row in the same order, args last when shown', () => {
    expect(csvHeader(false)).toHaveLength(14);
    expect(csvHeader(true).at(-1)).toBe('args');
    expect(csvRow(record, false)).toEqual([
      't1',
      'Jobs.ok',
      'failed',
      'api',
      null,
      '2026-01-01T00:00:00.000Z',
      null,
      null,
      1.5,
      0,
      null,
      '2026-01-01T00:05:00.000Z',
      '{"team":"a"}',
      '=HYPERLINK("x")',
    ]);
    expect(csvRow(record, true).at(-1)).toBe('[1,{"b":"2"}]');
    expect(csvLine(csvRow(record, false))).toContain(`"'=HYPERLINK(""x"")"\r\n`);
  });

  it('leaves the args cell empty when JSON cannot write them', () => {
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(csvRow({ ...record, args: cyclic } as TaskRecord, true).at(-1)).toBe('');
  });
});
