// test_look.mjs: dark theme (following the OS), tablet width with the
// menu behind a button, and keyboard use: skip link, visible focus, the
// VM list's arrow keys. Screenshots for a person to look at.
import { Daemon, assert, close, launch, login, newPage, shot } from './lib.mjs';

export async function setup() {
    const daemon = await new Daemon().start();
    const api = await daemon.admin();
    await api.ok('POST', '/srs', { name: 'local', type: 'file', path: daemon.data + '/srs/local' });
    const net = await api.ok('POST', '/networks', { name: 'lan', bridge: 'xenbr0' });
    for (let i = 0; i < 40; i++) {
        const vm = await api.ok('POST', '/vms', { name: `db-${i}`, vcpus: 2, memory_mib: 2048,
            tags: [i % 3 ? 'prod' : 'staging'], boot: { type: 'pv', kernel: '/boot/vmlinuz' },
            nics: [{ network: net.id }] });
        if (i % 3 === 0) await api.ok('POST', `/vms/${vm.id}/start`, undefined, 202);
    }
    const browser = await launch();
    return { daemon, api, browser };
}

export async function teardown(ctx) {
    if (ctx.browser) await close(ctx.browser);
    if (ctx.daemon) await ctx.daemon.stop();
}

export async function test_dark_theme({ daemon, browser }) {
    const page = await newPage(browser, { colorScheme: 'dark' });
    await login(page, daemon.url, 'admin', daemon.password);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert(bg === 'rgb(13, 17, 23)', 'dark background, got ' + bg);
    await shot(page, 'look-dark-dashboard');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Virtual machines' }).click();
    await page.getByText('40 of 40').waitFor();
    await shot(page, 'look-dark-vms');
    assert(!page.problems.length, page.problems.join('\n'));
    await page.context().close();
}

export async function test_tablet_width({ daemon, browser }) {
    const page = await newPage(browser, { viewport: { width: 820, height: 1100 } });
    await login(page, daemon.url, 'admin', daemon.password);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });
    assert(!(await nav.isVisible()) || (await nav.boundingBox()).x < 0, 'sidebar shown at tablet width');
    await page.getByRole('button', { name: 'Menu' }).click();
    await nav.getByRole('link', { name: 'Virtual machines' }).click();
    await page.getByText('40 of 40').waitFor();
    await page.waitForTimeout(400); // the menu's slide-out
    const over = await page.evaluate(() => document.documentElement.scrollWidth > innerWidth);
    assert(!over, 'the page scrolls sideways at 820 px');
    await shot(page, 'look-tablet-vms');
    await page.context().close();
}

export async function test_keyboard({ daemon, browser }) {
    const page = await newPage(browser);
    await login(page, daemon.url, 'admin', daemon.password);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.keyboard.press('Tab');
    const first = await page.evaluate(() => document.activeElement.textContent);
    assert(first === 'Skip to content', 'first Tab stop: ' + first);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Virtual machines' }).click();
    await page.getByText('40 of 40').waitFor();
    await page.getByRole('link', { name: 'db-0', exact: true }).focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    const name = await page.evaluate(() => document.activeElement.textContent);
    assert(name === 'db-2', 'ArrowDown moved to ' + name);
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert(outline !== 'none', 'no visible focus');
    await shot(page, 'look-keyboard-focus');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /db-2/ }).waitFor();
    await page.context().close();
}

export async function test_pool_settings({ daemon, browser }) {
    const page = await newPage(browser);
    await login(page, daemon.url, 'admin', daemon.password);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Pool' }).click();
    await page.getByLabel('Name').fill('lab pool');
    await page.getByLabel('Default storage repository').selectOption({ label: 'local' });
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    await page.getByLabel('Name').fill('bad/name');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('alert').filter({ hasText: 'letters, digits' }).waitFor();
    await shot(page, 'look-pool');
    assert(!page.problems.filter((p) => !/400/.test(p)).length, page.problems.join('\n'));
    await page.context().close();
}

export async function test_password_change_asked_midway({ daemon, api, browser }) {
    const u = await api.ok('POST', '/users', { username: 'op1', password: 'Operator-pass-1',
        role: 'operator', must_change_password: false });
    const page = await newPage(browser);
    await login(page, daemon.url, 'op1', 'Operator-pass-1');
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await api.ok('PATCH', '/users/' + u.id, { must_change_password: true });
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API tokens' }).click();
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await page.context().close();
}

export async function test_bulk_delete_halted({ daemon, browser }) {
    // 14 "staging" VMs, all running (i % 3 === 0 were started): nothing to
    // delete; "prod" has 26 halted ones: select all shown and delete.
    const page = await newPage(browser);
    await login(page, daemon.url, 'admin', daemon.password);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Virtual machines' }).click();
    await page.getByLabel('Filter by tag', { exact: true }).selectOption('staging');
    await page.getByLabel('Select all shown VMs').check();
    assert(await page.getByRole('button', { name: 'Delete' }).isDisabled(), 'delete enabled for running VMs');
    await page.getByLabel('Select all shown VMs').uncheck();
    await page.getByLabel('Filter by tag', { exact: true }).selectOption('prod');
    await page.getByText('26 of 40').waitFor();
    await page.getByLabel('Select all shown VMs').check();
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByText('Delete 26 VM(s)').waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByText('0 of 14').waitFor();
    await page.context().close();
}
