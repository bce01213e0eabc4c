import { newTaskId } from '../../../lib/engine/task-ids';

describe('newTaskId', () => {
  it('makes distinct UUID v4 strings, across its batches', () => {
    const ids = Array.from({ length: 1000 }, () => newTaskId());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('gives ids that behave as any string (JSON, Map keys, comparison)', () => {
    const id = newTaskId();
    const copy = JSON.parse(JSON.stringify({ id })).id as string;
    expect(copy).toBe(id);
    expect(new Map([[id, 1]]).get(copy)).toBe(1);
  });
});
