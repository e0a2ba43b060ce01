// bench/ui/run.mjs: the UI with 1000 VMs in Debian's headless Chromium
// against the real xenithd (test driver): bytes on first load
// (compressed, as sent), time from navigation to the VM list rendered,
// and frame times while scrolling the list. Prints a Markdown table.
//   make -j2 all && node bench/ui/run.mjs [N_VMS]
import os from 'node:os';
import { Daemon, launch, newPage, login, close } from '../../tests/browser/lib.mjs';

const N = Number(process.argv[2] || 1000);
const RUNS = 5;
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

/* Wheel down the whole list and back up; frame times, long tasks, and
 * with profile=true the main thread's busy time and the app's share of
 * it (the rest is Chromium's style, layout and paint). */
async function scrollPass(page, profile) {
    await page.locator('.vbody').hover();
    await page.evaluate(() => {
        window.__long = [];
        window.__stop = false;
        new PerformanceObserver((l) => l.getEntries().forEach((e) =>
            window.__long.push(e.duration))).observe({ type: 'longtask' });
        window.__frames = [];
        let last = performance.now();
        const tick = (t) => {
            window.__frames.push(t - last);
            last = t;
            if (!window.__stop) requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
    });
    let cdp = null;
    if (profile) {
        cdp = await page.context().newCDPSession(page);
        await cdp.send('Profiler.enable');
        await cdp.send('Profiler.start');
    }
    const t0 = Date.now();
    for (let i = 0; i < Math.ceil(N * 44 / 300); i++) {
        await page.mouse.wheel(0, 300);
        await page.waitForTimeout(16);
    }
    for (let i = 0; i < 40; i++) {
        await page.mouse.wheel(0, -2000);
        await page.waitForTimeout(16);
    }
    const [frames, long] = await page.evaluate(() => {
        window.__stop = true;
        return [window.__frames.slice(1), window.__long];
    });
    const res = { frames, long, ms: Date.now() - t0, busy: 0, app: 0 };
    if (cdp) {
        const { profile: prof } = await cdp.send('Profiler.stop');
        const self = new Map();
        const byId = new Map(prof.nodes.map((n) => [n.id, n]));
        prof.samples.forEach((id, i) => {
            const n = byId.get(id).callFrame;
            const k = `${n.functionName || '(anon)'} ${n.url.split('/').pop()}:${n.lineNumber}`;
            self.set(k, (self.get(k) || 0) + (prof.timeDeltas[i] || 0) / 1000);
        });
        if (process.env.PROFILE)
            console.error([...self].sort((a, b) => b[1] - a[1]).slice(0, 15)
                .map(([k, v]) => `${v.toFixed(0)} ms ${k}`).join('\n'));
        const sum = (f) => [...self].filter(([k]) => f(k)).reduce((n, [, v]) => n + v, 0);
        res.app = sum((k) => /\.js:/.test(k) && !/^\(/.test(k));
        res.busy = sum((k) => !/^\(idle\)/.test(k));
    }
    return res;
}

const d = await new Daemon().start();
const out = [];
try {
    const api = await d.admin();
    const net = await api.ok('POST', '/networks', { name: 'lan', bridge: 'xenbr0' });
    const t0 = Date.now();
    const running = [];
    for (let i = 0; i < N; i += 25) {
        await Promise.all(Array.from({ length: Math.min(25, N - i) }, (_, k) =>
            api.ok('POST', '/vms', { name: `vm-${String(i + k).padStart(4, '0')}`,
                vcpus: 1 + ((i + k) % 4), memory_mib: 256 * (1 + ((i + k) % 4)),
                tags: [['prod', 'dev', 'test'][(i + k) % 3]],
                boot: { type: 'pv', kernel: '/boot/vmlinuz' },
                nics: [{ network: net.id }] }).then((v) => {
                if ((i + k) % 4 === 0) running.push(v.id);
            })));
    }
    for (const id of running) await api.ok('POST', `/vms/${id}/start`, undefined, 202);
    console.error(`defined ${N} VMs (${running.length} started) in ${Date.now() - t0} ms`);

    const browser = await launch();
    // 1. First load: the log-in page and everything it pulls, as sent.
    {
        const page = await newPage(browser);
        const cdp = await page.context().newCDPSession(page);
        await cdp.send('Network.enable');
        const sizes = new Map();
        cdp.on('Network.responseReceived', (e) => sizes.set(e.requestId, { url: e.response.url }));
        cdp.on('Network.loadingFinished', (e) => {
            if (sizes.has(e.requestId)) sizes.get(e.requestId).bytes = e.encodedDataLength;
        });
        await page.goto(d.url + '/', { waitUntil: 'networkidle' });
        const files = [...sizes.values()].filter((s) => !s.url.includes('/api/'));
        const total = files.reduce((n, s) => n + (s.bytes || 0), 0);
        out.push(['First load (log-in page, all files, compressed incl. headers)',
            `${(total / 1024).toFixed(1)} KiB in ${files.length} files`]);
        // After log-in: the dashboard needs no more code.
        await login(page, d.url, 'admin', d.password);
        await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
        // The console's lazy chunk (xterm.js), loaded only when opened.
        const before = new Set(sizes.keys());
        await page.goto(`${d.url}/vms/${running[0]}/console`);
        await page.locator('.conn.connected').waitFor();
        const lazy = [...sizes.entries()].filter(([k, s]) => !before.has(k) &&
            /assets\/(xterm|addon)/.test(s.url)).reduce((n, [, s]) => n + (s.bytes || 0), 0);
        out.push(['Console code, loaded on first use', `${(lazy / 1024).toFixed(1)} KiB`]);
        await page.context().close();
    }
    // 2. Navigation to the VM list rendered (logged in, warm HTTP cache
    //    off: a fresh context each run).
    const times = [];
    for (let r = 0; r < RUNS; r++) {
        const page = await newPage(browser);
        await login(page, d.url, 'admin', d.password);
        await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
        const start = Date.now();
        await page.goto(d.url + '/vms');
        await page.getByText(`${N} of ${N}`).waitFor({ timeout: 30000 });
        await page.locator('.vrow[data-index="0"]').waitFor();
        times.push(Date.now() - start);
        if (r < RUNS - 1) await page.context().close();
        else {
            // 3. Scroll the whole list by wheel, recording frame times;
            //    then once more under a CPU profile for the app's share.
            const f = await scrollPass(page, false);
            const sorted = [...f.frames].sort((a, b) => a - b);
            const p = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
            out.push(['Scrolling the list top to bottom and back (frames)', String(f.frames.length)]);
            out.push(['Frames over 50 ms while scrolling', String(f.frames.filter((x) => x > 50).length)]);
            out.push(['Main-thread long tasks (> 50 ms) while scrolling',
                f.long.length ? `${f.long.length}, longest ${Math.max(...f.long).toFixed(0)} ms` : '0']);
            out.push(['Frame time p50 / p95 / max', `${p(0.5).toFixed(1)} / ${p(0.95).toFixed(1)} / ${sorted[sorted.length - 1].toFixed(1)} ms`]);
            const g = await scrollPass(page, true);
            out.push(['Profiled scroll: duration; main thread busy; of which app JavaScript',
                `${g.ms} ms; ${g.busy.toFixed(0)} ms; ${g.app.toFixed(0)} ms`]);
            const dom = await page.evaluate(() => document.querySelectorAll('.vrow').length);
            out.push(['VM rows in the DOM (virtualized)', String(dom)]);
            await page.context().close();
        }
    }
    out.splice(2, 0, [`Navigation to the list of ${N} VMs rendered (median of ${RUNS})`,
        `${median(times)} ms (runs: ${times.join(', ')})`]);
    await close(browser);
} finally {
    await d.stop();
}
out.push(['Load average at the end (1 min, machine has ' + os.cpus().length + ' CPUs)',
    os.loadavg()[0].toFixed(1)]);
console.log('| Measure | Result |\n|---|---|');
for (const [k, v] of out) console.log(`| ${k} | ${v} |`);
