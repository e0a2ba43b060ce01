// test_display.mjs: an HVM VM's graphical console in the browser: noVNC
// over /api/v1/vms/{id}/vnc against the test driver's RFB server (colour
// bars, the VM's name, the keys typed so far), keys typed into it, and
// the Display tab absent for PV VMs.
import { Daemon, assert, close, launch, login, newPage, shot } from './lib.mjs';

export const stopOnFailure = true;

export async function setup() {
    const daemon = await new Daemon().start();
    const api = await daemon.admin();
    const hvm = await api.ok('POST', '/vms', { name: 'win-like', vcpus: 1, memory_mib: 512,
        boot: { type: 'hvm', cdrom: null } });
    const pv = await api.ok('POST', '/vms', { name: 'pv-only', vcpus: 1, memory_mib: 256,
        boot: { type: 'pv', kernel: '/boot/vmlinuz' } });
    const t = await api.ok('POST', `/vms/${hvm.id}/start`, undefined, 202);
    await api.waitTask(t.id);
    const browser = await launch();
    const page = await newPage(browser);
    await login(page, daemon.url, 'admin', daemon.password);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    return { daemon, api, hvm, pv, browser, page };
}

export async function teardown(ctx) {
    if (ctx.browser) await close(ctx.browser);
    if (ctx.daemon) await ctx.daemon.stop();
}

/* Distinct colours in the noVNC canvas (a sample grid). */
function colours(page) {
    return page.evaluate(() => {
        const c = document.querySelector('.screen canvas');
        const g = c.getContext('2d');
        const seen = new Set();
        for (let y = 5; y < c.height; y += 17)
            for (let x = 5; x < c.width; x += 13)
                seen.add(g.getImageData(x, y, 1, 1).data.join(','));
        return { n: seen.size, w: c.width, h: c.height };
    });
}

export async function test_display_shows_the_screen({ daemon, page, hvm }) {
    await page.goto(`${daemon.url}/vms/${hvm.id}/display`);
    await page.locator('.display .conn.connected').waitFor();
    await page.waitForFunction(() => {
        const c = document.querySelector('.screen canvas');
        return c && c.width >= 320 && c.height >= 200;
    });
    await page.waitForTimeout(500);
    const c = await colours(page);
    assert(c.n >= 8, `a blank screen: ${c.n} colours in ${c.w}x${c.h}`);
    await shot(page, 'display-hvm');
    assert(!page.problems.length, page.problems.join('\n'));
}

export async function test_keys_reach_the_vm({ page }) {
    const before = await page.evaluate(() => {
        const c = document.querySelector('.screen canvas');
        return c.toDataURL();
    });
    await page.locator('.screen canvas').click();
    await page.keyboard.type('xyz');
    // The test driver draws the keys it received: the picture changes.
    await page.waitForFunction((b) =>
        document.querySelector('.screen canvas').toDataURL() !== b, before, { timeout: 5000 });
    await page.getByRole('button', { name: 'Send Ctrl-Alt-Del' }).click();
    await page.getByRole('button', { name: 'Scale to fit' }).click();
    assert(await page.getByRole('button', { name: 'Scale to fit' }).getAttribute('aria-pressed')
        === 'false', 'scale toggle');
    await shot(page, 'display-typed');
    assert(!page.problems.length, page.problems.join('\n'));
}

export async function test_no_display_tab_for_pv({ daemon, page, pv }) {
    await page.goto(`${daemon.url}/vms/${pv.id}`);
    await page.getByRole('tab', { name: 'Console' }).waitFor();
    assert(!(await page.getByRole('tab', { name: 'Display' }).count()), 'a PV VM has a Display tab');
}
