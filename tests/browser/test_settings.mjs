// test_settings.mjs: the Settings screen: the time zone, and replacing
// the HTTPS certificate from files (served at once: the fingerprint
// shown changes and a new TLS connection gets it); a viewer reads only.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { Daemon, assert, close, launch, login, newPage, shot } from './lib.mjs';

export async function setup() {
    const daemon = await new Daemon().start();
    const api = await daemon.admin();
    await api.ok('POST', '/users', { username: 'view1', password: 'Viewer-pass-1',
        role: 'viewer', must_change_password: false });
    const browser = await launch();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xenith-tls-'));
    return { daemon, api, browser, tmp };
}

export async function teardown(ctx) {
    if (ctx.browser) await close(ctx.browser);
    if (ctx.daemon) await ctx.daemon.stop();
    if (ctx.tmp) fs.rmSync(ctx.tmp, { recursive: true, force: true });
}

function servedFingerprint(port) {
    return new Promise((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
            resolve(s.getPeerCertificate().fingerprint256);
            s.end();
        });
        s.on('error', reject);
    });
}

function nav(page, name) {
    return page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).click();
}

export async function test_time_zone_and_certificate({ daemon, browser, tmp }) {
    const page = await newPage(browser);
    await login(page, daemon.url, 'admin', daemon.password);
    await nav(page, 'Settings');
    await page.getByText('(self-signed)').waitFor();
    await page.getByRole('combobox', { name: 'Time zone' }).selectOption('Europe/Paris');
    await page.getByRole('form', { name: 'Time zone settings' }).getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();

    const key = path.join(tmp, 'k.pem');
    const crt = path.join(tmp, 'c.pem');
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
    execFileSync('openssl', ['req', '-x509', '-new', '-key', key, '-subj', '/CN=lab.example',
        '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '30', '-out', crt]);
    const before = await servedFingerprint(daemon.port);
    await page.getByLabel('Certificate (PEM, chain after it)').setInputFiles(crt);
    await page.getByLabel('Private key (PEM, unencrypted)').setInputFiles(key);
    await page.getByRole('button', { name: 'Replace certificate' }).click();
    await page.getByText('Replaced: new connections use it.').waitFor();
    await page.getByText('CN=lab.example').first().waitFor();
    const after = await servedFingerprint(daemon.port);
    assert(after !== before, 'the listener still serves the old certificate');
    await page.getByText(after).waitFor(); // the page shows what is served
    await shot(page, 'settings');
    assert(!page.problems.length, page.problems.join('\n'));
    await page.context().close();
}

export async function test_wrong_key_is_refused_in_words({ daemon, browser, tmp }) {
    const page = await newPage(browser);
    await login(page, daemon.url, 'admin', daemon.password);
    await nav(page, 'Settings');
    const other = path.join(tmp, 'other.pem');
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', other]);
    await page.getByLabel('Certificate (PEM, chain after it)').setInputFiles(path.join(tmp, 'c.pem'));
    await page.getByLabel('Private key (PEM, unencrypted)').setInputFiles(other);
    await page.getByRole('button', { name: 'Replace certificate' }).click();
    await page.getByRole('alert').filter({ hasText: 'does not match' }).waitFor();
    await page.context().close();
}

export async function test_viewer_reads_only({ daemon, browser }) {
    const page = await newPage(browser);
    await login(page, daemon.url, 'view1', 'Viewer-pass-1');
    await nav(page, 'Settings');
    await page.getByText('CN=lab.example').first().waitFor();
    assert(await page.getByRole('combobox', { name: 'Time zone' }).isDisabled(), 'a viewer can change the time zone');
    assert(!(await page.getByRole('button', { name: 'Replace certificate' }).count()),
        'a viewer sees the certificate upload');
    assert(!page.problems.length, page.problems.join('\n'));
    await page.context().close();
}
