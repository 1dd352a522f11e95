/**
 * Preloaded into the CLI (`node --import ./bench/mem-watch.mjs dist/cli/main.js ...`) by
 * bench/mem-fleet.ts: samples process.memoryUsage() every 20 ms and, at exit, writes the
 * peak of each figure (MB) as one JSON line to $MEM_WATCH_OUT. With $MEM_WATCH_SNAPSHOT_MB
 * set, writes ONE heap snapshot (v8.writeHeapSnapshot) the first time RSS crosses it.
 */
import { appendFileSync } from 'node:fs';
import v8 from 'node:v8';

const out = process.env.MEM_WATCH_OUT;
const snapAt = Number(process.env.MEM_WATCH_SNAPSHOT_MB ?? 0);
const peak = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
const atRssPeak = { heapUsed: 0, external: 0, arrayBuffers: 0 };
let snapped = false;
const MB = 1024 * 1024;
const sample = () => {
  const m = process.memoryUsage();
  for (const k of Object.keys(peak)) peak[k] = Math.max(peak[k], m[k] / MB);
  if (m.rss / MB >= peak.rss) Object.assign(atRssPeak, { heapUsed: m.heapUsed / MB, external: m.external / MB, arrayBuffers: m.arrayBuffers / MB });
  if (snapAt && !snapped && m.rss / MB >= snapAt) {
    snapped = true;
    const file = v8.writeHeapSnapshot();
    process.stderr.write(`mem-watch: heap snapshot ${file} taken at rss ${(m.rss / MB).toFixed(1)} MB, heapUsed ${(m.heapUsed / MB).toFixed(1)} MB, external ${(m.external / MB).toFixed(1)} MB\n`);
  }
};
setInterval(sample, 20).unref();
process.on('exit', () => {
  sample();
  const r = (x) => Math.round(x * 10) / 10;
  const line = JSON.stringify({ peak: Object.fromEntries(Object.entries(peak).map(([k, v]) => [k, r(v)])), atRssPeak: Object.fromEntries(Object.entries(atRssPeak).map(([k, v]) => [k, r(v)])) });
  if (out) appendFileSync(out, `${line}\n`);
});

// $MEM_WATCH_HEAPPROF=FILE: V8's sampling heap profiler, keeping the samples of objects a
// major GC collected (they survived the scavenges: promoted, then garbage) beside the live
// ones, written to FILE at exit (a .heapprofile for Chrome DevTools or bench/mem-sites.mjs).
const profFile = process.env.MEM_WATCH_HEAPPROF;
if (profFile) {
  const { Session } = await import('node:inspector');
  const { writeFileSync } = await import('node:fs');
  const session = new Session();
  session.connect();
  session.post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: false });
  process.on('exit', () => {
    session.post('HeapProfiler.stopSampling', (err, res) => {
      if (!err) writeFileSync(profFile, JSON.stringify(res.profile));
    });
  });
}
