import { Injectable } from '@nestjs/common';
import { BackgroundTask, getTaskContext, reportProgress, taskLog } from '../lib';

const SECTIONS = ['revenue', 'refunds', 'new customers', 'churn', 'regional breakdown', 'top products', 'forecast', 'summary'];

/**
 * A slow report (about 5 to 10 s) that reports its progress and stops early when cancelled.
 * `requeueOnInterrupt`: a report caught running by a crash (kill -9) or a shutdown is built
 * again at the next start instead of ending `interrupted`; building it twice is harmless.
 */
@Injectable()
export class ReportService {
  @BackgroundTask({ timeout: 60, requeueOnInterrupt: true })
  async generateReport(kind: string, month: string): Promise<void> {
    const signal = getTaskContext()?.signal;
    const stepMs = 600 + Math.random() * 600; // 8 sections: ~5-10 s in all
    taskLog(`Building the ${kind} report for ${month} (${SECTIONS.length} sections)`);
    for (const [i, section] of SECTIONS.entries()) {
      if (signal?.aborted) {
        taskLog(`Cancelled before "${section}", ${i}/${SECTIONS.length} sections done; nothing written`, { level: 'warning' });
        return;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, stepMs);
        signal?.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
      if (signal?.aborted) continue; // logged at the top of the next round
      reportProgress((i + 1) / SECTIONS.length, `Section ${i + 1}/${SECTIONS.length}: ${section}`);
    }
    if (signal?.aborted) {
      taskLog('Cancelled at the last section; nothing written', { level: 'warning' });
      return;
    }
    taskLog(`Report written to reports/${kind}-${month}.pdf`);
  }
}
