import { MAX_BULK_IDS } from '../../../lib/task/request-limits';
import { BulkRetryBodyPipe } from '../../../lib/web/pipes/bulk-retry-body.pipe';
import { expectHttpError } from './expect-http';

const BODY = 'Request body must be a JSON object {"task_ids": [string, ...]} sent as application/json';

describe('BulkRetryBodyPipe', () => {
  const pipe = new BulkRetryBodyPipe();

  it('returns the ids, up to 5000 of up to 128 characters', () => {
    expect(pipe.transform({ task_ids: [] })).toEqual([]);
    expect(pipe.transform({ task_ids: ['a', 'a'] })).toEqual(['a', 'a']);
    expect(pipe.transform({ task_ids: Array.from({ length: MAX_BULK_IDS }, () => 'x'.repeat(128)) })).toHaveLength(5000);
  });

  it.each<[string, unknown]>([
    ['no body (not JSON)', undefined],
    ['null', null],
    ['a string', 'task_ids'],
    ['an array', [1, 2]],
    ['task_ids missing', { ids: [] }],
    ['task_ids only inherited', Object.create({ task_ids: ['a'] })],
  ])('answers 400 with the shape message to %s', (_label, body) => {
    expectHttpError(() => pipe.transform(body), 400, BODY);
  });

  it.each<[string, unknown]>([
    ['a string', 'abc'],
    ['an object', { 0: 'a' }],
    ['5001 ids', Array.from({ length: 5001 }, (_, i) => `id-${i}`)],
  ])('answers 400 with the cap message when task_ids is %s', (_label, ids) => {
    expectHttpError(() => pipe.transform({ task_ids: ids }), 400, '"task_ids" must be an array of at most 5000 strings');
  });

  it.each<[string, unknown[], number]>([
    ['a number', ['a', 1], 1],
    ['null', [null], 0],
    ['an empty string', [''], 0],
    ['a 129-character string', ['a', 'b', 'x'.repeat(129)], 2],
    ['an array', [['a']], 0],
  ])('answers 400 naming the index of %s', (_label, ids, index) => {
    expectHttpError(() => pipe.transform({ task_ids: ids }), 400, `task_ids[${index}] must be a non-empty string of at most 128 characters`);
  });
});
