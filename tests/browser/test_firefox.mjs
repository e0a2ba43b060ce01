// test_firefox.mjs: the UI in Firefox (Debian's firefox-esr, driven over
// WebDriver BiDi by puppeteer-core): log in, dashboard, the VM list, a
// start seen live through /events, the xterm.js console with the boot
// log and typed input, and the dark theme. CSP violations are caught
// in the page (securitypolicyviolation), so a strict-CSP break that only
// Firefox reports still fails the test.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Daemon, ROOT, SHOTS, assert, assertHttp2 } from './lib.mjs';

const require = createRequire(path.join(ROOT, 'ui/package.json'));
const puppeteer = require('puppeteer-core');
const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';

export const stopOnFailure = true;

export async function setup() {
    const daemon = await new Daemon().start();
    const api = await daemon.admin();
    const sr = await api.ok('POST', '/srs', { name: 'local', type: 'file',
        path: daemon.data + '/srs/local' });
    const net = await api.ok('POST', '/networks', { name: 'lan', bridge: 'xenbr0' });
    const disk = await api.ok('POST', '/disks', { name: 'fox-root', sr: sr.id,
        size_bytes: 64 << 20 });
    const vm = await api.ok('POST', '/vms', { name: 'fox1', vcpus: 1, memory_mib: 256,
        boot: { type: 'pv', kernel: '/boot/vmlinuz', cmdline: 'console=hvc0' },
        disks: [{ disk: disk.id, device: 'xvda', mode: 'rw' }],
        nics: [{ network: net.id }] });
    const browser = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX,
        headless: true, acceptInsecureCerts: true });
    const page = await browser.newPage();
    await page.setViewport({ width: 1366, height: 860 });
    page.setDefaultTimeout(15000);
    page.problems = [];
    page.on('pageerror', (e) => page.problems.push('page error: ' + e.message));
    page.on('console', (m) => {
        if (m.type() === 'error' && !/Failed to load resource|status of 401/.test(m.text()))
            page.problems.push(m.text());
    });
    await page.evaluateOnNewDocument(() => {
        window.__csp = [];
        document.addEventListener('securitypolicyviolation', (e) =>
            window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    return { daemon, api, vm, browser, page };
}

export async function teardown(ctx) {
    if (ctx.browser) await ctx.browser.close();
    if (ctx.daemon) await ctx.daemon.stop();
}

async function shot(page, name) {
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, name + '.png') });
}

async function noProblems(page) {
    const csp = await page.evaluate(() => window.__csp || []);
    const all = page.problems.concat(csp.map((c) => 'CSP: ' + c));
    assert(!all.length, 'browser errors: ' + all.join('\n'));
}

/* Wait until the visible text of the page matches re. */
function waitText(page, re, timeout) {
    return page.waitForFunction((src) => new RegExp(src).test(document.body.innerText),
        { timeout }, re.source);
}

async function clickText(page, selector, text) {
    await page.locator(`${selector}::-p-text(${text})`).click();
}

export async function test_firefox_login_and_dashboard({ daemon, page }) {
    await page.goto(daemon.url + '/');
    await page.locator('input[name=username]').fill('admin');
    await page.locator('input[name=password]').fill(daemon.password);
    await clickText(page, 'button', 'Log in');
    await page.waitForSelector('h1::-p-text(Dashboard)');
    await page.waitForSelector('.live.live');
    await waitText(page, /test-1\.0/);
    await shot(page, 'ff-01-dashboard');
    await noProblems(page);
    await assertHttp2(page);
}

export async function test_firefox_vm_start_live({ daemon, page, vm }) {
    await page.goto(`${daemon.url}/vms/${vm.id}`);
    await page.waitForSelector('h1 .badge::-p-text(Halted)');
    await clickText(page, 'button', 'Start');
    // The badge changes through the pushed event, not a reload.
    await page.waitForSelector('h1 .badge::-p-text(Running)');
    await shot(page, 'ff-02-vm-running');
    await noProblems(page);
}

export async function test_firefox_console({ page }) {
    await clickText(page, '[role=tab]', 'Console');
    await page.waitForSelector('.conn.connected');
    await page.waitForFunction(() => {
        const el = document.querySelector('.xterm-accessibility');
        return el && /login:/.test(el.textContent);
    }, { timeout: 15000 });
    await page.locator('.term').click();
    await page.keyboard.type('root\n');
    // The test driver's console echoes what it is sent.
    await page.waitForFunction(() => /root/.test(
        document.querySelector('.xterm-accessibility').textContent.split('login:').pop()),
    { timeout: 5000 });
    await shot(page, 'ff-03-console');
    await noProblems(page);
}

export async function test_firefox_vm_list({ daemon, page }) {
    await page.goto(`${daemon.url}/vms`);
    await page.waitForSelector('::-p-text(fox1)');
    await page.locator('input[type=search]').fill('nothing-matches');
    await page.waitForFunction(() => !/fox1/.test(document.querySelector('main').innerText));
    await shot(page, 'ff-04-vm-list');
    await noProblems(page);
}
