import { Injectable } from '@nestjs/common';
import { ScheduledTask, ScheduleInfo } from '../../lib';
import { createHttpApp } from '../support/http-app';
import { SseReader } from '../support/http-sse';

@Injectable()
class Ticker {
  @ScheduledTask({ every: 1, runOnStartup: true })
  async tick(): Promise<void> {}
}

describe('schedules on the SSE stream', () => {
  it('sends a named `schedules` event with the list when a scheduled run finishes', async () => {
    const h = await createHttpApp({}, { providers: [Ticker] });
    try {
      const sse = await SseReader.open(`${h.url}/tasks/dashboard/stream`);
      const event = await sse.waitFor((e) => {
        if (e.event !== 'schedules') return false;
        const list = JSON.parse(e.data!) as ScheduleInfo[];
        return list.some((s) => s.func_name === 'Ticker.tick' && s.last_status === 'success');
      }, 5000);
      const [row] = JSON.parse(event.data!) as ScheduleInfo[];
      expect(row).toMatchObject({ func_name: 'Ticker.tick', trigger: 'every 1s', last_status: 'success' });
      expect(row.next_run).toMatch(/Z$/);
      sse.close();
    } finally {
      await h.close();
    }
  });
});
