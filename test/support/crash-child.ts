import { ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ChildEvent, CrashAppConfig } from '../crash/fixtures/crash-app';

export type { ChildEvent, CrashAppConfig, CrashTaskKind } from '../crash/fixtures/crash-app';

const ROOT = path.resolve(__dirname, '..', '..');
const HOOK = path.join(ROOT, 'test', 'crash', 'fixtures', 'ts-hook.js');
const live = new Set<CrashChild>();
let warmed = false;

/**
 * Transpiles lib/ and the fixtures into the hook's cache once per test process, so the
 * children's startup times are not skewed by the first one loading the compiler.
 */
export function warmTranspileCache(): void {
  if (warmed) return;
  const result = spawnSync(process.execPath, [HOOK, path.join(ROOT, 'lib'), path.join(ROOT, 'test', 'crash', 'fixtures')], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.status !== 0) throw new Error(`warming the transpile cache failed: ${result.stderr || result.error?.message}`);
  warmed = true;
}

/**
 * A child process running test/crash/fixtures/crash-app.ts (or another fixture):
 * collects its stdout events, lets a test wait for one, kill it or close it.
 */
export class CrashChild {
  readonly events: ChildEvent[] = [];
  private stderrText = '';
  private listeners: (() => void)[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  private constructor(
    readonly name: string,
    private readonly proc: ChildProcessWithoutNullStreams,
  ) {
    let buffer = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.startsWith('{"ev"')) this.events.push(JSON.parse(line) as ChildEvent);
      }
      this.notify();
    });
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk: string) => {
      this.stderrText += chunk;
      if (this.stderrText.length > 200_000) this.stderrText = this.stderrText.slice(-100_000);
    });
    proc.stdin.on('error', () => undefined);
    // 'close' rather than 'exit': it comes once stdout is drained too, so every line the
    // process wrote before it died has been parsed by then.
    this.exited = new Promise((resolve) =>
      proc.on('close', (code, signal) => {
        this.exitInfo = { code, signal };
        live.delete(this);
        resolve(this.exitInfo);
        this.notify();
      }),
    );
  }

  /** Starts `node -r ts-hook.js <fixture>` with the config in TASKFLOW_CRASH_CONFIG. */
  static start(
    name: string,
    config: CrashAppConfig | Record<string, unknown>,
    opts: { fixture?: string; nodeArgs?: string[]; wrapper?: string[] } = {},
  ): CrashChild {
    warmTranspileCache();
    const fixture = opts.fixture ?? path.join(ROOT, 'test', 'crash', 'fixtures', 'crash-app.ts');
    const argv = [process.execPath, ...(opts.nodeArgs ?? []), '-r', HOOK, fixture];
    // `wrapper` runs node under another command (e.g. `unshare --pid --fork`).
    const command = opts.wrapper?.length ? [...opts.wrapper, ...argv] : argv;
    const proc = spawn(command[0], command.slice(1), {
      cwd: ROOT,
      env: { ...process.env, TASKFLOW_CRASH_CONFIG: JSON.stringify(config) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const child = new CrashChild(name, proc);
    live.add(child);
    return child;
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get stderr(): string {
    return this.stderrText;
  }

  get alive(): boolean {
    return this.exitInfo === null;
  }

  /** Resolves with the first event (already received or coming) matching `match`. */
  waitFor<E extends ChildEvent = ChildEvent>(match: (e: ChildEvent) => boolean, timeoutMs = 20_000, what = 'an event'): Promise<E> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.events.find(match);
        if (found) {
          resolve(found as E);
          return true;
        }
        const failed = this.events.find((e) => e.ev === 'error');
        if (failed || !this.alive) {
          reject(
            new Error(
              `${this.name} ${failed ? 'failed' : 'exited'} before ${what}: ${JSON.stringify(failed ?? this.exitInfo)}\n${this.stderrText.slice(-4000)}`,
            ),
          );
          return true;
        }
        return false;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== listener);
        reject(new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}\n${this.stderrText.slice(-4000)}`));
      }, timeoutMs);
      const listener = () => {
        if (check()) {
          clearTimeout(timer);
          this.listeners = this.listeners.filter((l) => l !== listener);
        }
      };
      this.listeners.push(listener);
    });
  }

  waitForEvent<K extends ChildEvent['ev']>(ev: K, timeoutMs?: number): Promise<Extract<ChildEvent, { ev: K }>> {
    return this.waitFor((e) => e.ev === ev, timeoutMs, `"${ev}"`) as Promise<Extract<ChildEvent, { ev: K }>>;
  }

  /** SIGKILL, and resolves once the process is gone and its output read; returns the kill time (epoch ms). */
  async kill(): Promise<number> {
    const at = Date.now();
    if (this.alive) this.proc.kill('SIGKILL');
    await this.exited;
    return at;
  }

  /** Asks the app to close gracefully (stdin `close`) and waits for the exit. */
  async close(timeoutMs = 20_000): Promise<void> {
    if (!this.alive) return;
    this.send('close');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  send(line: string): void {
    if (this.alive) this.proc.stdin.write(line + '\n');
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/** Kills every child a test left running (afterEach/afterAll). */
export async function killAllChildren(): Promise<void> {
  await Promise.all([...live].map((c) => c.kill()));
}

/** A temporary ledger file; `read()` parses its lines. */
export class Ledger {
  readonly file: string;
  private readonly dir: string;

  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskflow-ledger-'));
    this.file = path.join(this.dir, 'ledger.log');
    fs.writeFileSync(this.file, '');
  }

  read(): LedgerLine[] {
    return fs
      .readFileSync(this.file, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => {
        const [what, id, pid, t, kind] = l.split(' ');
        return { what: what as 'start' | 'done', id, pid: Number(pid), t: Number(t), kind };
      });
  }

  /** How many `done` lines each task id has. */
  doneCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const line of this.read()) if (line.what === 'done') counts.set(line.id, (counts.get(line.id) ?? 0) + 1);
    return counts;
  }

  dispose(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface LedgerLine {
  what: 'start' | 'done';
  id: string;
  pid: number;
  t: number;
  kind: string;
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function pollUntil<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 15_000,
  everyMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as T;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
