// Sums a V8 CPU profile (.cpuprofile, from node --cpu-prof) by function: self time per function
// name and location, largest first. Run alone: node bench/push/profile-summary.ts FILE [TOP]

import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

export interface SelfTime {
  function: string;
  selfMs: number;
  share: number;
}

export function summarizeProfile(file: string, top = 25): SelfTime[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const nameOf = new Map<number, string>();
  for (const n of profile.nodes) {
    const { functionName, url, lineNumber } = n.callFrame;
    const where = url === '' ? '' : ` ${url.replace(/^.*\/(src|bench)\//, '$1/')}:${lineNumber + 1}`;
    nameOf.set(n.id, `${functionName || '(anonymous)'}${where}`);
  }
  const selfUs = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const name = nameOf.get(id) ?? '?';
    selfUs.set(name, (selfUs.get(name) ?? 0) + dt);
    total += dt;
  });
  return [...selfUs]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ function: name, selfMs: us / 1000, share: us / total }));
}

if (import.meta.main) {
  const [file, top] = process.argv.slice(2);
  if (file === undefined) {
    process.stderr.write('usage: node bench/push/profile-summary.ts FILE.cpuprofile [TOP]\n');
    process.exit(2);
  }
  for (const r of summarizeProfile(file, Number(top ?? 25))) {
    process.stdout.write(
      `${r.selfMs.toFixed(0).padStart(8)} ms ${(r.share * 100).toFixed(1).padStart(5)} %  ${r.function}\n`,
    );
  }
}
