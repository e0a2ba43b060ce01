// test_flow.mjs: the walk-through in a real Chromium against the
// real xenithd on the test driver: log in, create a disk, create a VM
// with the wizard, start it, read its console, snapshot it, create a
// viewer who must change their password and cannot act, session expiry,
// log out. Every step leaves a screenshot.
import { Daemon, SHOTS, assert, assertHttp2, close, launch, login, newPage, shot } from './lib.mjs';

export const stopOnFailure = true;

export async function setup() {
    const daemon = await new Daemon().start();
    const api = await daemon.admin();
    const sr = await api.ok('POST', '/srs', { name: 'local', type: 'file',
        path: daemon.data + '/srs/local' });
    await api.ok('POST', '/networks', { name: 'lan', bridge: 'xenbr0' });
    const browser = await launch();
    const page = await newPage(browser);
    return { daemon, api, sr, browser, page };
}

export async function teardown(ctx) {
    if (ctx.browser) await close(ctx.browser);
    if (ctx.daemon) await ctx.daemon.stop();
}

function nav(page, name) {
    return page.getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name, exact: true }).click();
}

function noProblems(page) {
    assert(!page.problems.length, 'browser errors: ' + page.problems.join('\n'));
}

export async function test_login_and_dashboard({ daemon, page }) {
    await login(page, daemon.url, 'admin', 'wrong-password');
    await page.getByText('wrong username or password').waitFor();
    page.problems.length = 0; // the 401 above is expected
    await page.getByLabel('Password').fill(daemon.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.locator('.live.live').waitFor();
    await page.getByRole('heading', { name: 'Host' }).waitFor();
    await page.getByText('test-1.0').waitFor();
    await shot(page, '01-dashboard');
    noProblems(page);
    await assertHttp2(page); // the events WebSocket above: HTTP/1.1
}

export async function test_create_disk({ page }) {
    await nav(page, 'Storage');
    await page.getByRole('button', { name: 'Create disk' }).click();
    const dlg = page.getByRole('dialog');
    await dlg.getByLabel('Name').fill('web1-root');
    await dlg.getByLabel('Size (GiB)').fill('0.0625');
    await dlg.getByRole('button', { name: 'Create' }).click();
    await dlg.waitFor({ state: 'detached' });
    // The row comes from the "disk created" event.
    await page.getByRole('cell', { name: 'web1-root', exact: true }).waitFor();
    await page.getByRole('cell', { name: '64 MiB', exact: true }).first().waitFor();
    await shot(page, '02-storage');
    noProblems(page);
}

export async function test_disk_import_export_grow({ page }) {
    const row = page.locator('tr', { hasText: 'web1-root' });
    await row.getByRole('button', { name: 'Import into web1-root' }).click();
    const image = Buffer.alloc(65536, 0x5a);
    await page.getByLabel('Raw image file').setInputFiles({ name: 'img.raw',
        mimeType: 'application/octet-stream', buffer: image });
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    const [dl] = await Promise.all([page.waitForEvent('download'),
        row.getByRole('link', { name: 'Export web1-root' }).click()]);
    const path = await dl.path();
    const fs = await import('node:fs');
    const got = fs.readFileSync(path);
    assert(got.length === 64 * 1048576, 'export size ' + got.length);
    assert(got.subarray(0, 65536).equals(image), 'exported bytes differ from the import');
    await row.getByRole('button', { name: 'Edit web1-root' }).click();
    await page.getByRole('dialog').getByLabel('Name').fill('bad/name');
    await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
    await page.getByRole('dialog').getByRole('alert').waitFor(); // refused, in words
    await page.getByRole('dialog').getByLabel('Name').fill('web1-root');
    await page.getByRole('dialog').getByLabel('Size (GiB)').fill('1');
    await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await row.getByRole('cell', { name: '1.0 GiB', exact: true }).waitFor();
    noProblems(page);
}

export async function test_wizard_creates_vm({ page }) {
    await nav(page, 'Virtual machines');
    await page.getByRole('link', { name: 'New VM' }).click();
    await page.getByLabel('Name', { exact: true }).fill('web1');
    await page.getByLabel('Tags (optional)').fill('prod, web');
    await page.getByLabel('Kernel', { exact: true }).fill('/boot/vmlinuz');
    await page.getByLabel('Kernel command line (optional)').fill('console=hvc0');
    await shot(page, '03-wizard-boot');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('vCPUs').fill('2');
    await page.getByLabel('Memory (MiB)').fill('512');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('An existing disk').check();
    await page.getByRole('combobox', { name: 'Disk', exact: true }).selectOption({ label: 'web1-root (1.0 GiB)' });
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('combobox', { name: 'Network' }).selectOption({ label: 'lan (xenbr0)' });
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Start it now').uncheck();
    await shot(page, '04-wizard-review');
    await page.getByRole('button', { name: 'Create VM' }).click();
    await page.getByRole('heading', { name: /web1/ }).waitFor();
    await page.locator('h1 .badge', { hasText: 'Halted' }).waitFor();
    await page.getByText('xvda web1-root').waitFor();
    noProblems(page);
}

export async function test_start_shows_task_progress({ page }) {
    await page.getByRole('button', { name: 'Start' }).click();
    await page.locator('h1 .badge', { hasText: 'Running' }).waitFor();
    await page.locator('.action-task', { hasText: 'success' }).waitFor();
    // Graphs fill in from /stats.
    await page.locator('.chart .uplot').first().waitFor();
    await page.waitForTimeout(4500);
    await shot(page, '05-vm-page');
    noProblems(page);
}

export async function test_console_shows_boot_log({ page }) {
    await page.getByRole('tab', { name: 'Console' }).click();
    await page.locator('.conn.connected').waitFor();
    const a11y = page.locator('.xterm-accessibility');
    await page.waitForFunction(() => {
        const el = document.querySelector('.xterm-accessibility');
        return el && /login:/.test(el.textContent);
    }, null, { timeout: 15000 });
    const text = await a11y.textContent();
    assert(/login:/.test(text), 'no login prompt in: ' + text);
    await page.locator('.term').click();
    await page.keyboard.type('root\n');
    await page.waitForTimeout(800);
    await shot(page, '06-vm-console');
    // "Open in a tab": the console alone on a page of its own.
    const [tab] = await Promise.all([page.context().waitForEvent('page'),
        page.getByRole('link', { name: 'Open in a tab' }).click()]);
    await tab.locator('.conn.connected').waitFor();
    await tab.waitForFunction(() => /login:/.test(
        document.querySelector('.xterm-accessibility').textContent));
    await tab.screenshot({ path: SHOTS + '/06b-console-tab.png' });
    await tab.close();
    noProblems(page);
}

export async function test_snapshot({ page }) {
    await page.getByRole('tab', { name: 'Snapshots' }).click();
    // The API's refusal is shown in words next to the form.
    await page.getByLabel('Snapshot name').fill('bad/name');
    await page.getByRole('button', { name: 'Take snapshot' }).click();
    await page.getByRole('alert').filter({ hasText: 'letters, digits' }).waitFor();
    await page.getByLabel('Snapshot name').fill('before-upgrade');
    await page.getByRole('button', { name: 'Take snapshot' }).click();
    await page.getByRole('cell', { name: 'before-upgrade', exact: true }).waitFor();
    await shot(page, '07-vm-snapshots');
    noProblems(page);
}

export async function test_config_edit_live({ page, api }) {
    await page.getByRole('tab', { name: 'Configuration' }).click();
    await page.getByLabel('Memory (MiB)').fill('768');
    await page.getByLabel('Tags').fill('prod, web, frontend');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Saved.').waitFor();
    await page.getByRole('tab', { name: 'Overview' }).click();
    await page.locator('dd', { hasText: '768 MiB' }).waitFor();
    await page.locator('.tag', { hasText: 'frontend' }).waitFor();
    // Boot changes need a halted VM: the API's answer is shown in words.
    await page.getByRole('tab', { name: 'Configuration' }).click();
    assert(await page.getByLabel('Kernel', { exact: true }).isDisabled(),
        'boot fields editable while running');
    // NICs (and disks) change live: a NIC hot-plugged and removed again.
    const nics = async () => (await api.ok('GET', '/vms')).find(
        (v) => v.name === 'web1').nics.length;
    const before = await nics();
    await page.getByRole('button', { name: 'Add a NIC' }).click();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Saved.').waitFor();
    assert(await nics() === before + 1, 'NIC not attached live');
    await page.getByRole('button', { name: `Remove eth${before}` }).click();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Saved.').waitFor();
    assert(await nics() === before, 'NIC not detached live');
    noProblems(page);
}

export async function test_vm_follows_events({ page, api }) {
    // Paused behind the UI's back (by the API): the page follows the
    // event; resuming from the UI brings it back.
    const vms = await api.ok('GET', '/vms');
    const id = vms.find((v) => v.name === 'web1').id;
    await page.getByRole('tab', { name: 'Overview' }).click();
    await api.ok('POST', `/vms/${id}/pause`, undefined, 202);
    await page.locator('h1 .badge', { hasText: 'Paused' }).waitFor();
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator('h1 .badge', { hasText: 'Running' }).waitFor();
    noProblems(page);
}

export async function test_force_off_revert_delete_snapshot({ page }) {
    // Force off asks first; revert needs the VM halted and brings back the
    // snapshot's 512 MiB; then the snapshot is deleted.
    await page.getByRole('button', { name: 'Force off' }).click();
    const dlg = page.getByRole('dialog');
    await dlg.getByText('like pulling the plug').waitFor();
    await dlg.getByRole('button', { name: 'Force off' }).click();
    await page.locator('h1 .badge', { hasText: 'Halted' }).waitFor();
    await page.getByRole('tab', { name: 'Snapshots' }).click();
    const snap = page.getByRole('row', { name: /before-upgrade/ });
    await snap.getByRole('button', { name: 'Revert' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revert' }).click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await page.getByRole('tab', { name: 'Overview' }).click();
    await page.locator('dd', { hasText: '512 MiB' }).waitFor();
    await page.getByRole('tab', { name: 'Snapshots' }).click();
    await snap.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No snapshot yet.').waitFor();
    await page.getByRole('button', { name: 'Start' }).click();
    await page.locator('h1 .badge', { hasText: 'Running' }).waitFor();
    noProblems(page);
}

export async function test_vm_list({ page, api, sr }) {
    const net = (await api.ok('GET', '/networks'))[0].id;
    for (let i = 0; i < 30; i++)
        await api.ok('POST', '/vms', { name: `app-${String(i).padStart(2, '0')}`,
            vcpus: 1 + (i % 4), memory_mib: 256 * (1 + (i % 3)),
            tags: [i % 2 ? 'prod' : 'dev'], boot: { type: 'pv', kernel: '/boot/vmlinuz' },
            nics: [{ network: net }] });
    void sr;
    await nav(page, 'Virtual machines');
    await page.getByText('31 of 31').waitFor();
    // Rows are virtualized: the last VM is not in the DOM until scrolled to.
    assert(await page.getByRole('link', { name: 'app-29' }).count() === 0, 'all rows rendered');
    await page.getByLabel('Search VMs').fill('app-1');
    await page.getByText('10 of 31').waitFor();
    await page.getByLabel('Search VMs').fill('');
    await page.getByLabel('Filter by tag', { exact: true }).selectOption('prod');
    await page.getByText('16 of 31').waitFor();
    await page.getByLabel('Filter by tag', { exact: true }).selectOption('');
    // Sort by vCPUs, largest first: the first row has 4.
    await page.getByRole('button', { name: 'vCPUs' }).click();
    await page.getByRole('button', { name: /vCPUs/ }).click();
    await page.getByRole('columnheader', { name: /vCPUs/ }).and(
        page.locator('[aria-sort="descending"]')).waitFor();
    const top = await page.locator('.vrow[data-index="0"] .c-vcpus').textContent();
    assert(top === '4', 'first row after sorting by vCPUs desc has ' + top);
    await page.getByRole('button', { name: /Name/ }).click();
    await page.getByLabel('Select app-01').check();
    await page.getByLabel('Select app-03').check();
    await page.getByRole('button', { name: 'Start (2)' }).click();
    await page.locator('.vrow', { hasText: 'app-03' }).getByText('Running').waitFor();
    await page.locator('.vrow', { hasText: 'app-01' }).getByText('Running').waitFor();
    await shot(page, '08-vm-list');
    noProblems(page);
}

export async function test_tasks_panel({ page }) {
    await nav(page, 'Tasks');
    await page.getByRole('heading', { name: 'Finished' }).waitFor();
    await page.getByText('Start · web1').first().waitFor();
    await shot(page, '09-tasks');
    noProblems(page);
}

export async function test_running_task_progress_and_cancel({ page, api }) {
    // A guest that ignores shutdown keeps the task running until its
    // timeout: the panel shows it with a Cancel button. (The daemon's
    // shutdown does not stop early on cancel yet: the request is
    // accepted and the task ends at its timeout.)
    const net = (await api.ok('GET', '/networks'))[0].id;
    const vm = await api.ok('POST', '/vms', { name: 'stubborn', vcpus: 1, memory_mib: 256,
        boot: { type: 'pv', kernel: '/boot/vmlinuz', cmdline: 'xenith.ignore_shutdown' },
        nics: [{ network: net }] });
    // Wait for the start task itself, not the VM's state: the state is
    // recorded just before the task lets go of the VM.
    const start = await api.ok('POST', `/vms/${vm.id}/start`, undefined, 202);
    await api.waitTask(start.id);
    await api.ok('POST', `/vms/${vm.id}/shutdown`, { timeout_s: 4 }, 202);
    const row = page.locator('li.task.running', { hasText: 'Shut down · stubborn' });
    await row.waitFor();
    await row.getByRole('progressbar').waitFor();
    await page.waitForTimeout(1500);
    await shot(page, '10-task-running');
    await row.getByRole('button', { name: /Cancel/ }).click();
    await row.getByText('Cancel requested').waitFor();
    await page.locator('li.task:not(.running)', { hasText: 'Shut down · stubborn' })
        .waitFor({ timeout: 15000 });
    noProblems(page);
}

export async function test_create_viewer({ page }) {
    await nav(page, 'Users');
    await page.getByRole('button', { name: 'Add user' }).click();
    const dlg = page.getByRole('dialog');
    await dlg.getByLabel('Username').fill('viewer1');
    await dlg.getByLabel('Password', { exact: true }).fill('Viewer-pass-1');
    await dlg.getByLabel('Role').selectOption('viewer');
    await dlg.getByRole('button', { name: 'Add user' }).click();
    await page.getByRole('cell', { name: 'viewer1', exact: true }).waitFor();
    await shot(page, '11-users');
    await nav(page, 'API tokens');
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.getByRole('dialog').getByLabel('Name').fill('ci');
    await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
    const secret = await page.locator('#token-secret').textContent();
    assert(/^[a-z]+_[0-9a-f]{64}$/.test(secret) || secret.length > 40, 'secret: ' + secret);
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    const clip = await page.evaluate(() => navigator.clipboard.readText());
    assert(clip === secret, 'clipboard holds ' + clip);
    await shot(page, '12-token-secret');
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('cell', { name: 'ci', exact: true }).waitFor();
    await nav(page, 'Audit log');
    await page.getByText(/Hash chain verified/).waitFor();
    await page.getByRole('cell', { name: 'POST /api/v1/tokens' }).first().waitFor();
    await page.getByLabel('Filter by user').fill('nobody');
    await page.getByText('No entry.').waitFor();
    await page.getByLabel('Filter by user').fill('');
    await page.getByRole('cell', { name: 'POST /api/v1/users' }).first().waitFor();
    await shot(page, '13-audit');
    noProblems(page);
}

export async function test_logout({ page }) {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    const st = await page.evaluate(() => fetch('/api/v1/session').then((r) => r.status));
    assert(st === 401, 'session still valid after log-out: ' + st);
}

export async function test_viewer_changes_password_and_cannot_act({ daemon, page }) {
    await login(page, daemon.url, 'viewer1', 'Viewer-pass-1');
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await shot(page, '14-first-login-password');
    await page.getByLabel('Current password').fill('Viewer-pass-1');
    await page.getByLabel('New password', { exact: true }).fill('Viewer-pass-2');
    await page.getByLabel('New password again').fill('Viewer-pass-2');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    assert(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).count() === 0, 'viewer sees Users');
    await nav(page, 'Virtual machines');
    await page.getByLabel('Search VMs').fill('web');
    await page.getByRole('link', { name: 'web1' }).click();
    await page.getByText('Read-only').waitFor();
    for (const b of ['Start', 'Force off', 'Shut down', 'Delete'])
        assert(await page.getByRole('button', { name: b, exact: true }).count() === 0,
            'viewer sees ' + b);
    assert(await page.getByRole('tab', { name: 'Console' }).count() === 0, 'viewer sees console');
    await page.getByRole('tab', { name: 'Configuration' }).click();
    assert(await page.getByRole('button', { name: 'Save changes' }).count() === 0, 'viewer can save');
    await shot(page, '15-viewer-vm');
    await nav(page, 'Virtual machines');
    assert(await page.getByRole('link', { name: 'New VM' }).count() === 0, 'viewer sees New VM');
    assert(await page.getByLabel('Select web1').count() === 0, 'viewer can select');
    await nav(page, 'Storage');
    await page.getByRole('heading', { name: /Disks/ }).waitFor();
    for (const b of ['Create disk', 'Add SR', 'Import into web1-root', 'Delete web1-root'])
        assert(await page.getByRole('button', { name: b }).count() === 0, 'viewer sees ' + b);
    await nav(page, 'Networks');
    await page.getByRole('cell', { name: 'lan', exact: true }).waitFor();
    assert(await page.getByRole('button', { name: 'Add network' }).count() === 0, 'viewer sees Add network');
    await nav(page, 'Tasks');
    await page.getByRole('heading', { name: 'Finished' }).waitFor();
    assert(await page.getByRole('button', { name: /^Cancel/ }).count() === 0, 'viewer sees Cancel');
    noProblems(page);
}

export async function test_session_expiry_goes_to_login({ page }) {
    await page.context().clearCookies();
    page.problems.length = 0;
    await nav(page, 'API tokens');
    await page.getByText('Your session has ended').waitFor();
    await shot(page, '16-session-expired');
}
