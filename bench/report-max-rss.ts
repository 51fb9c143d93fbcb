/**
 * Preloaded into a benchmarked process (`node --import ./bench/report-max-rss.ts ...`): at exit
 * it writes its peak RSS (process.resourceUsage().maxRSS, KiB) to stderr as `MAXRSS_KB <n> CPU_MS <n>`,
 * so the bench measures the CLI as a person runs it, process.exit included.
 */
import { writeSync } from 'node:fs';

process.on('exit', () => {
  const u = process.resourceUsage();
  writeSync(2, `\nMAXRSS_KB ${u.maxRSS} CPU_MS ${Math.round((u.userCPUTime + u.systemCPUTime) / 1000)}\n`);
});
