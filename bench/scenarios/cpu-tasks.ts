/**
 * The module of the CPU scenario, and the module its worker threads boot (a file of its own:
 * the scenario file runs its main at load, which a thread must not do). A plain route, and the
 * same CPU burn as an async task and as a worker task.
 */
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { BackgroundTask, TaskManagerModule } from '../../lib';

export function burn(ms: number): number {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) x = (x * 31 + 7) % 1_000_003;
  return x;
}

@Injectable()
export class CpuBenchTasks {
  @BackgroundTask({ executor: 'worker' })
  onWorker(ms: number): number {
    return burn(ms);
  }

  @BackgroundTask()
  async onLoop(ms: number): Promise<number> {
    return burn(ms);
  }
}

@Controller('bench')
export class PlainController {
  @Get('plain')
  plain(): { ok: true } {
    return { ok: true };
  }
}

@Module({
  imports: [
    TaskManagerModule.forRoot({ workers: { module: `${__filename}#CpuBenchModule`, size: Number(process.env.TASKFLOW_BENCH_THREADS ?? 1) } }),
  ],
  providers: [CpuBenchTasks],
  controllers: [PlainController],
})
export class CpuBenchModule {}
