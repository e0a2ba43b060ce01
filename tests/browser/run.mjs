// run.mjs: run every tests/browser/test_*.mjs (or those named on the
// command line). A module exports setup() -> ctx, test_*(ctx) run in
// file order, and teardown(ctx). Exit status 1 if any test failed.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Daemon, Skip } from './lib.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = fs.readdirSync(HERE).filter((f) => /^test_.*\.mjs$/.test(f))
    .filter((f) => !only.length || only.some((o) => f.startsWith(o))).sort();
let failed = 0;
let passed = 0;
const skipped = [];

for (const f of files) {
    const mod = await import(pathToFileURL(path.join(HERE, f)));
    const src = fs.readFileSync(path.join(HERE, f), 'utf8');
    const names = [...src.matchAll(/^export async function (test_\w+)/gm)].map((m) => m[1]);
    let ctx;
    try {
        ctx = mod.setup ? await mod.setup() : {};
    } catch (e) {
        if (e instanceof Skip) {
            console.log(`SKIP ${f} (${names.length} tests): ${e.message}`);
            skipped.push(`${f} (${names.length} tests): ${e.message}`);
        } else {
            console.log(`FAIL ${f} setup: ${e.stack}`);
            failed++;
        }
        continue;
    }
    for (const n of names) {
        const t0 = Date.now();
        try {
            await mod[n](ctx);
            passed++;
            console.log(`ok   ${f} ${n} (${Date.now() - t0} ms)`);
        } catch (e) {
            failed++;
            console.log(`FAIL ${f} ${n}: ${e.stack}`);
            if (ctx && ctx.page) {
                try {
                    await ctx.page.screenshot({ path: path.join(HERE, 'screenshots',
                        `FAIL-${f}-${n}.png`) });
                } catch (e2) { /* page gone */ }
            }
            if (ctx && ctx.daemon) console.log(ctx.daemon.readLog().slice(-1500));
            if (mod.stopOnFailure) break;
        }
    }
    try {
        if (mod.teardown) await mod.teardown(ctx);
    } catch (e) {
        console.log(`teardown of ${f}: ${e.message}`);
    }
}
for (const d of [...Daemon.running]) await d.stop();
console.log(`browser tests: ${passed} passed, ${failed} failed` +
    (skipped.length ? `, NOT RUN: ${skipped.join('; ')}` : ''));
process.exit(failed ? 1 : 0);
