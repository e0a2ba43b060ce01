// test_backup.mjs: the backup screens in a real Chromium against the
// real xenithd on the test driver (the API of /work/contracts/
// backup-api.md): create an encrypted repository, create a job for a VM
// with the schedule editor showing the next five runs, run it and watch
// the bar reach 100%, see the run in the job's history and on the
// dashboard, verify the repository, restore the backup as a new VM and
// find it in the VM list; a viewer sees all of it and can act on none.
// A xenithd without the backup API skips the module (reported as not
// run, never as passed).
import crypto from 'node:crypto';
import { Daemon, Skip, assert, close, launch, login, newPage, shot } from './lib.mjs';

export const stopOnFailure = true;

const MIB = 1048576;

export async function setup() {
    const daemon = await new Daemon().start();
    const api = await daemon.admin();
    const probe = await api.request('GET', '/backup/jobs');
    if (probe.status === 404) {
        await daemon.stop();
        throw new Skip('this xenithd has no backup jobs API (GET /backup/jobs: 404); ' +
            'the module needs branches bkjobs (jobs, runs) and bkrepo (repositories, restore)');
    }
    const sr = await api.ok('POST', '/srs', { name: 'local', type: 'file',
        path: daemon.data + '/srs/local' });
    const net = await api.ok('POST', '/networks', { name: 'lan', bridge: 'xenbr0' });
    const disk = await api.ok('POST', '/disks', { name: 'app1-root', sr: sr.id,
        size_bytes: 256 * MIB });
    // Some data to back up: 8 MiB of random bytes three times over (the
    // repository stores them once), then the rest of the disk sparse.
    const unique = crypto.randomBytes(8 * MIB);
    const img = Buffer.concat([unique, unique, unique]);
    await api.ok('POST', `/disks/${disk.id}/import`, img);
    const vm = await api.ok('POST', '/vms', { name: 'app1', vcpus: 1, memory_mib: 256,
        tags: ['prod'], boot: { type: 'pv', kernel: '/boot/vmlinuz' },
        disks: [{ disk: disk.id, device: 'xvda' }], nics: [{ network: net.id }] });
    await api.ok('POST', '/users', { username: 'watcher', password: 'Watcher-pass-1',
        role: 'viewer', must_change_password: false });
    const browser = await launch();
    const page = await newPage(browser);
    return { daemon, api, sr, vm, browser, page };
}

export async function teardown(ctx) {
    if (ctx.browser) await close(ctx.browser);
    if (ctx.daemon) await ctx.daemon.stop();
}

function nav(page, name) {
    return page.getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name, exact: true }).click();
}

/* Browser errors other than the API answers a test provoked on purpose. */
function noProblems(page, allowed) {
    const left = page.problems.filter((p) => !(allowed && allowed.test(p)));
    assert(!left.length, 'browser errors: ' + left.join('\n'));
}

export async function test_create_repository({ daemon, page }) {
    await login(page, daemon.url, 'admin', daemon.password);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await nav(page, 'Repositories');
    await page.getByText('No backup repository yet.').waitFor();
    await page.getByRole('button', { name: 'Add repository' }).click();
    const dlg = page.getByRole('dialog');
    // The API's refusal comes back in words inside the dialog.
    await dlg.getByLabel('Name').fill('main');
    await dlg.getByLabel('Directory').fill('relative/dir');
    await dlg.getByRole('button', { name: 'Add' }).click();
    await dlg.getByRole('alert').filter({ hasText: 'path' }).waitFor();
    await dlg.getByLabel('Directory').fill(daemon.data + '/backups/main');
    await dlg.getByLabel('Passphrase (optional)').fill('Backup-pass-1');
    await dlg.getByLabel('Passphrase again').fill('Backup-pass-1');
    await dlg.getByRole('button', { name: 'Add' }).click();
    await dlg.waitFor({ state: 'detached' });
    const card = page.getByRole('article', { name: 'Repository main' });
    await card.getByText('Encrypted', { exact: true }).waitFor();
    await card.getByText('available', { exact: true }).waitFor();
    const fp = await card.locator('.fp').textContent();
    assert(fp.length >= 8, 'key fingerprint shown: ' + fp);
    await shot(page, 'bk-01-repository');
    noProblems(page, /400/);
}

export async function test_create_job_with_schedule_preview({ api, page }) {
    page.problems.length = 0;
    await nav(page, 'Jobs');
    // By keyboard: Enter opens the dialog with the name focused, Escape
    // closes it.
    await page.getByRole('button', { name: 'Create job' }).focus();
    await page.keyboard.press('Enter');
    const dlg = page.getByRole('dialog');
    await dlg.waitFor();
    const focused = await page.evaluate(() => document.activeElement.id &&
        document.querySelector(`label[for="${document.activeElement.id}"]`)?.textContent);
    assert(focused === 'Job name', 'focus in the new dialog: ' + focused);
    await page.keyboard.press('Escape');
    await dlg.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Create job' }).click();
    await dlg.getByLabel('Job name').fill('nightly');
    await dlg.getByRole('checkbox', { name: /app1/ }).check();
    await dlg.getByLabel('Runs', { exact: true }).selectOption('daily');
    await dlg.getByLabel('At (HH:MM)').fill('03:15');
    assert(await dlg.getByLabel('Cron expression').inputValue() === '15 3 * * *',
        'preset wrote ' + await dlg.getByLabel('Cron expression').inputValue());
    const runs = dlg.locator('.next-runs li');
    await page.waitForFunction(() =>
        document.querySelectorAll('dialog .next-runs li').length === 5);
    // A bad expression: the server's reason, in words, in place of the runs.
    await dlg.getByLabel('Cron expression').fill('61 * * * *');
    await dlg.locator('.preview').getByRole('alert').waitFor();
    assert(await runs.count() === 0, 'runs still listed for a bad schedule');
    // Typed by hand, live: weekdays at 02:30 in Berlin.
    await dlg.getByLabel('Cron expression').fill('30 2 * * MON-FRI');
    await dlg.getByLabel('Time zone').selectOption('Europe/Berlin');
    await page.waitForFunction(() =>
        document.querySelectorAll('dialog .next-runs li').length === 5);
    assert(await dlg.getByLabel('Runs', { exact: true }).inputValue() === 'custom', 'not shown as custom');
    const want = await api.ok('GET', '/backup/schedule/preview?schedule=' +
        encodeURIComponent('30 2 * * MON-FRI') + '&timezone=Europe%2FBerlin');
    const got = await runs.locator('time').evaluateAll((l) => l.map((t) => t.dateTime));
    assert(JSON.stringify(got) === JSON.stringify(want.next_runs),
        `preview ${JSON.stringify(got)} != API ${JSON.stringify(want.next_runs)}`);
    await dlg.getByLabel('Last', { exact: true }).fill('3');
    await dlg.getByLabel('Daily', { exact: true }).fill('7');
    await shot(page, 'bk-02-job-dialog');
    await dlg.getByRole('button', { name: 'Create job' }).click();
    await dlg.waitFor({ state: 'detached' });
    const row = page.locator('tr', { hasText: 'nightly' });
    await row.getByText('never run').waitFor();
    await row.getByText('30 2 * * MON-FRI').waitFor();
    const jobs = await api.ok('GET', '/backup/jobs');
    assert(jobs.length === 1 && jobs[0].timezone === 'Europe/Berlin' &&
        jobs[0].retention.last === 3 && jobs[0].retention.daily === 7 &&
        jobs[0].vms.length === 1, 'job as stored: ' + JSON.stringify(jobs[0]));
    assert(jobs[0].next_runs.length === 5, 'job has no next runs');
    noProblems(page, /400/);
}

export async function test_run_job_progress_reaches_100({ api, page }) {
    page.problems.length = 0;
    const row = page.locator('tr', { hasText: 'nightly' });
    await row.getByRole('button', { name: 'Run nightly now' }).click();
    const bar = row.getByRole('progressbar');
    await bar.waitFor();
    // For the screenshot, catch it part-way if it is not already done.
    await page.waitForFunction(() => {
        const v = Number(document.querySelector('.last-result [role=progressbar]')
            ?.getAttribute('aria-valuenow'));
        return v > 0;
    }, null, { timeout: 5000 }).catch(() => {});
    await shot(page, 'bk-03-job-running');
    await row.locator('.progress.success').waitFor({ timeout: 60000 });
    assert(await bar.getAttribute('aria-valuenow') === '100',
        'bar ends at ' + await bar.getAttribute('aria-valuenow'));
    await row.getByText(/^100%/).waitFor();
    const job = (await api.ok('GET', '/backup/jobs'))[0];
    assert(job.last_run && job.last_run.status === 'success',
        'last run: ' + JSON.stringify(job.last_run));
    const task = await api.ok('GET', '/tasks/' + job.last_run.task);
    assert(task.status === 'success' && task.progress === 1, 'task ' + JSON.stringify(task));
    await shot(page, 'bk-04-job-done');
    // The task panel shows the finished backup with its throughput.
    await nav(page, 'Tasks');
    const done = page.locator('li.task.success', { hasText: 'Backup · nightly' });
    await done.getByText(/MB\/s on average/).waitFor();
    noProblems(page);
}

export async function test_history_and_dashboard({ api, page }) {
    const job = (await api.ok('GET', '/backup/jobs')).find((j) => j.name === 'nightly');
    await nav(page, 'Jobs');
    await page.getByRole('link', { name: 'nightly', exact: true }).click();
    await page.getByRole('heading', { name: 'nightly' }).waitFor();
    const run = page.locator('article.run').first();
    await run.getByText('Succeeded').first().waitFor();
    const vmRow = run.locator('tbody tr', { hasText: 'app1' });
    await vmRow.waitFor();
    await vmRow.getByText('not used (full read)').waitFor();
    // Why it read everything, from the run's stored read note.
    const runs = await api.ok('GET', `/backup/jobs/${job.id}/runs`);
    const note = runs[0].vms.find((v) => v.vm_name === 'app1').read_note;
    assert(note && note.startsWith('read all data'), 'read_note: ' + note);
    assert((await vmRow.locator('.read-note').textContent()) === note,
        'the history does not show the read note');
    const read = await vmRow.locator('td').nth(2).textContent();
    assert(read !== '—' && !/^0 B$/.test(read), 'bytes read: ' + read);
    await shot(page, 'bk-05-history');
    await nav(page, 'Dashboard');
    const card = page.locator('section', { has: page.getByRole('heading', { name: 'Backups', exact: true }) });
    await card.getByRole('link', { name: 'nightly' }).waitFor();
    await card.getByText('Succeeded').waitFor();
    await shot(page, 'bk-05b-dashboard');
    noProblems(page);
}

export async function test_failed_run_says_why({ api, page }) {
    // A job whose only VM has no disk: the run fails, and the job row, the
    // history and the dashboard say why.
    const empty = await api.ok('POST', '/vms', { name: 'nodisk1', vcpus: 1, memory_mib: 256,
        boot: { type: 'pv', kernel: '/boot/vmlinuz' } });
    const repo = (await api.ok('GET', '/backup/repositories'))[0];
    await api.ok('POST', '/backup/jobs', { name: 'broken', repository: repo.id,
        vms: [empty.id], schedule: '' });
    page.problems.length = 0;
    await nav(page, 'Jobs');
    const row = page.locator('tr', { hasText: 'broken' });
    await row.getByText('never run').waitFor();
    await row.getByText('manual').waitFor();
    await row.getByRole('button', { name: 'Run broken now' }).click();
    await row.locator('.progress.failure').waitFor({ timeout: 30000 });
    await row.getByRole('link', { name: 'broken' }).click();
    const run = page.locator('article.run').first();
    await run.getByText('Failed').first().waitFor();
    await run.locator('tbody tr', { hasText: 'nodisk1' }).getByText('the VM has no disk').waitFor();
    await shot(page, 'bk-05c-failed-run');
    await nav(page, 'Dashboard');
    const card = page.locator('section', { has: page.getByRole('heading', { name: 'Backups', exact: true }) });
    await card.locator('li', { hasText: 'broken' }).getByText('Failed', { exact: true }).waitFor();
    await card.locator('li', { hasText: 'broken' }).getByText(/the VM has no disk/).waitFor();
    await nav(page, 'Jobs');
    await page.getByRole('button', { name: 'Delete broken' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('link', { name: 'broken' }).waitFor({ state: 'detached' });
    await api.ok('DELETE', '/vms/' + empty.id, undefined, 204);
    noProblems(page);
}

export async function test_verify_repository({ page }) {
    await nav(page, 'Repositories');
    const card = page.getByRole('article', { name: 'Repository main' });
    await card.locator('.stats dd').first().filter({ hasText: /^1$/ }).waitFor();
    await card.getByRole('button', { name: 'Verify main' }).click();
    await page.getByRole('dialog').getByLabel('Sample (%)').fill('100');
    await page.getByRole('dialog').getByRole('button', { name: 'Verify' }).click();
    await card.getByText(/all good/).waitFor({ timeout: 30000 });
    await shot(page, 'bk-06-repository-verified');
    noProblems(page);
}

export async function test_prune_gc_and_forget_refused({ page }) {
    page.problems.length = 0;
    const card = page.getByRole('article', { name: 'Repository main' });
    await card.getByRole('button', { name: 'Prune main' }).click();
    const dlg = page.getByRole('dialog');
    assert(await dlg.getByLabel(/Dry run/).isChecked(), 'prune is not a dry run by default');
    await dlg.getByRole('button', { name: 'Show what would go' }).click();
    await card.getByText(/Prune \(dry run\): 0 snapshot\(s\) would go/).waitFor({ timeout: 30000 });
    await card.getByRole('button', { name: 'Collect garbage in main' }).click();
    await card.getByText(/Garbage collection: \d+ chunk\(s\) removed/).waitFor({ timeout: 30000 });
    // No lock is left behind by any of that: unlock finds nothing to remove.
    await card.getByRole('button', { name: 'Unlock main' }).click();
    await dlg.getByLabel('Dead host (optional)').waitFor();
    await dlg.getByRole('button', { name: 'Unlock' }).click();
    await card.getByText('Unlock: 0 backup lock(s) removed (0 of 0 chunk(s) checked removed).')
        .waitFor({ timeout: 30000 });
    // A job uses the repository: forgetting it is refused, in words.
    await card.getByRole('button', { name: 'Forget main' }).click();
    await dlg.getByRole('button', { name: 'Forget' }).click();
    await dlg.getByRole('alert').waitFor();
    await shot(page, 'bk-06b-forget-refused');
    await dlg.getByRole('button', { name: 'Cancel' }).click();
    await card.waitFor();
    noProblems(page, /409/);
}

export async function test_restore_as_new_vm({ page, vm }) {
    await nav(page, 'Virtual machines');
    await page.getByRole('link', { name: 'app1', exact: true }).click();
    await page.getByRole('tab', { name: 'Backups' }).click();
    await page.getByRole('heading', { name: 'Restore points' }).waitFor();
    await page.getByRole('button', { name: /^Restore / }).first().click();
    const dlg = page.getByRole('dialog');
    assert(await dlg.getByLabel('A new VM').isChecked(), 'new VM is not the default');
    await dlg.getByLabel('Name of the new VM').fill('app1-restored');
    await shot(page, 'bk-07-restore-wizard');
    await dlg.getByRole('button', { name: 'Restore', exact: true }).click();
    await dlg.getByText('Restored as').waitFor({ timeout: 60000 });
    await dlg.locator('.progress.success').waitFor();
    await shot(page, 'bk-08-restore-done');
    await dlg.getByRole('button', { name: 'Close' }).last().click();
    await nav(page, 'Virtual machines');
    await page.getByRole('link', { name: 'app1-restored', exact: true }).waitFor();
    await page.getByRole('link', { name: 'app1-restored', exact: true }).click();
    await page.getByRole('heading', { name: /app1-restored/ }).waitFor();
    await page.getByText(/xvda/).first().waitFor();
    assert(!page.url().includes(vm.id), 'landed on the original VM');
    noProblems(page);
}

export async function test_viewer_cannot_act_on_backups({ daemon, browser }) {
    // In the dark theme, for the screenshots.
    const page = await newPage(browser, { colorScheme: 'dark' });
    await login(page, daemon.url, 'watcher', 'Watcher-pass-1');
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await nav(page, 'Repositories');
    const card = page.getByRole('article', { name: 'Repository main' });
    await card.getByText('Encrypted', { exact: true }).waitFor();
    for (const b of ['Add repository', 'Verify main', 'Prune main', 'Forget main',
        'Collect garbage in main', 'Unlock main', 'Edit main'])
        assert(await page.getByRole('button', { name: b }).count() === 0, 'viewer sees ' + b);
    await nav(page, 'Jobs');
    await page.getByRole('link', { name: 'nightly', exact: true }).waitFor();
    for (const b of ['Create job', 'Run nightly now', 'Edit nightly', 'Delete nightly'])
        assert(await page.getByRole('button', { name: b }).count() === 0, 'viewer sees ' + b);
    await shot(page, 'bk-09a-viewer-jobs-dark');
    await page.getByRole('link', { name: 'nightly', exact: true }).click();
    await page.locator('article.run').first().waitFor();
    for (const b of ['Run now', 'Edit'])
        assert(await page.getByRole('button', { name: b, exact: true }).count() === 0,
            'viewer sees ' + b + ' on the history page');
    await nav(page, 'Virtual machines');
    await page.getByRole('link', { name: 'app1', exact: true }).click();
    await page.getByRole('tab', { name: 'Backups' }).click();
    await page.getByRole('table').getByText('nightly').first().waitFor();
    assert(await page.getByRole('button', { name: /^Restore/ }).count() === 0,
        'viewer sees Restore');
    await shot(page, 'bk-09b-viewer-vm-backups-dark');
    noProblems(page);
    await page.context().close();
}

export async function test_delete_job_then_forget_repository({ api, page }) {
    page.problems.length = 0;
    await nav(page, 'Jobs');
    await page.getByRole('button', { name: 'Delete nightly' }).click();
    const dlg = page.getByRole('dialog');
    await dlg.getByRole('button', { name: 'Delete' }).click();
    await dlg.waitFor({ state: 'detached' });
    await page.getByText('No backup job yet.').waitFor();
    await nav(page, 'Repositories');
    await page.getByRole('button', { name: 'Forget main' }).click();
    await dlg.getByRole('button', { name: 'Forget' }).click();
    await dlg.waitFor({ state: 'detached' });
    await page.getByText('No backup repository yet.').waitFor();
    assert((await api.ok('GET', '/backup/repositories')).length === 0, 'repository still there');
    noProblems(page);
}
