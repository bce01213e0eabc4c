/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self and total time per
 * function, the top N of each, optionally only functions whose file matches a filter.
 *
 *   node .bench-run/bench/profile-summary.js FILE.cpuprofile [top=30] [fileFilter]
 */
import * as fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export function summarise(file: string, top = 30, filter = ''): string {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + dt);
  }
  const totalUs = profile.endTime - profile.startTime;
  const key = (n: ProfileNode) => {
    const url = n.callFrame.url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules\/|\.bench-run\/)/, '$1');
    return `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`;
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    self.set(key(node), (self.get(key(node)) ?? 0) + us);
    // Inclusive: every distinct function on the stack once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = key(byId.get(cur)!);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + us);
    }
  }
  const lines: string[] = [`profile ${file}: ${(totalUs / 1000).toFixed(0)} ms sampled`];
  const show = (title: string, m: Map<string, number>) => {
    lines.push(title);
    const rows = [...m.entries()]
      .filter(([k]) => !filter || k.includes(filter))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top);
    for (const [k, us] of rows) lines.push(`  ${(us / 1000).toFixed(1).padStart(8)} ms ${((100 * us) / totalUs).toFixed(1).padStart(5)}%  ${k}`);
  };
  show('self time:', self);
  show('total time (inclusive):', total);
  return lines.join('\n');
}

if (require.main === module) {
  console.log(summarise(process.argv[2], Number(process.argv[3] ?? 30), process.argv[4] ?? ''));
}
