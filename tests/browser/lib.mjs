// lib.mjs: what the browser tests share: a real xenithd on the test
// driver (like tests/e2e/xenith_client.py's Daemon), Debian's Chromium
// through playwright-core, a tiny HTTPS client for set-up, and
// screenshots under tests/browser/screenshots/.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '../..');
const require = createRequire(path.join(ROOT, 'ui/package.json'));
export const { chromium } = require('playwright-core');

export const SHOTS = path.join(HERE, 'screenshots');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.listen(0, '127.0.0.1', () => {
            const { port } = s.address();
            s.close(() => resolve(port));
        });
        s.on('error', reject);
    });
}

const agent = new https.Agent({ rejectUnauthorized: false, keepAlive: true });

/* A small API client for set-up and checks (not what is under test). */
export class Api {
    constructor(port) {
        this.port = port;
        this.cookie = null;
        this.csrf = null;
    }

    request(method, p, body) {
        const raw = Buffer.isBuffer(body);
        const data = body === undefined ? null : raw ? body : Buffer.from(JSON.stringify(body));
        const headers = {};
        if (data) {
            headers['Content-Type'] = raw ? 'application/octet-stream' : 'application/json';
            headers['Content-Length'] = data.length;
        }
        if (this.cookie) headers.Cookie = this.cookie;
        if (this.csrf && method !== 'GET') headers['X-CSRF-Token'] = this.csrf;
        return new Promise((resolve, reject) => {
            const r = https.request({ host: '127.0.0.1', port: this.port, method,
                path: '/api/v1' + p, headers, agent }, (res) => {
                const chunks = [];
                res.on('data', (c) => chunks.push(c));
                res.on('end', () => {
                    const text = Buffer.concat(chunks).toString();
                    let json = null;
                    try {
                        json = text ? JSON.parse(text) : null;
                    } catch (e) { /* not JSON */ }
                    resolve({ status: res.statusCode, headers: res.headers, json });
                });
            });
            r.on('error', reject);
            if (data) r.write(data);
            r.end();
        });
    }

    async login(user, password) {
        const r = await this.request('POST', '/session', { username: user, password });
        if (r.status !== 200) throw new Error('login failed: ' + r.status);
        this.cookie = r.headers['set-cookie'][0].split(';')[0];
        this.csrf = r.json.csrf_token;
        return r;
    }

    async ok(method, p, body, status) {
        const r = await this.request(method, p, body);
        if (status ? r.status !== status : r.status >= 300)
            throw new Error(`${method} ${p}: ${r.status} ${JSON.stringify(r.json)}`);
        return r.json;
    }

    /* Poll a task until it leaves pending/running; throws if it fails. */
    async waitTask(id, timeoutMs = 30000) {
        const end = Date.now() + timeoutMs;
        while (Date.now() < end) {
            const t = await this.ok('GET', `/tasks/${id}`);
            if (t.status !== 'pending' && t.status !== 'running') {
                if (t.status !== 'success')
                    throw new Error(`task ${id}: ${t.status} ${JSON.stringify(t.error)}`);
                return t;
            }
            await new Promise((res) => setTimeout(res, 50));
        }
        throw new Error(`task ${id} did not finish`);
    }
}

export class Daemon {
    constructor(password = 'Admin-pass-1234') {
        this.password = password;
    }

    /* Every daemon started and not yet stopped, for the runner to stop if
     * a set-up fails half-way. */
    static running = new Set();

    async start() {
        this.port = await freePort();
        this.data = fs.mkdtempSync(path.join(os.tmpdir(), 'xenith-browser-'));
        const pw = path.join(this.data, 'pw.txt');
        fs.writeFileSync(pw, this.password + '\n', { mode: 0o600 });
        const bin = path.resolve(ROOT, process.env.XENITHD || 'build/xenithd');
        this.logPath = path.join(this.data, 'xenithd.log');
        const log = fs.openSync(this.logPath, 'a');
        this.proc = spawn(bin, ['--listen', `127.0.0.1:${this.port}`, '--data',
            this.data, '--hv', 'test:///default', '--admin-password-file', pw,
            '--web-root', path.join(ROOT, 'web')],
        { stdio: ['ignore', log, log] });
        Daemon.running.add(this);
        this.url = `https://127.0.0.1:${this.port}`;
        const api = new Api(this.port);
        const deadline = Date.now() + 20000;
        for (;;) {
            if (this.proc.exitCode != null)
                throw new Error('xenithd exited:\n' + this.readLog());
            try {
                if ((await api.request('GET', '/health')).status === 200) break;
            } catch (e) { /* not yet */ }
            if (Date.now() > deadline) throw new Error('xenithd not ready:\n' + this.readLog());
            await sleep(50);
        }
        return this;
    }

    readLog() {
        try {
            return fs.readFileSync(this.logPath, 'utf8').slice(-4000);
        } catch (e) {
            return '';
        }
    }

    async admin() {
        const a = new Api(this.port);
        await a.login('admin', this.password);
        return a;
    }

    async stop() {
        Daemon.running.delete(this);
        if (this.proc && this.proc.exitCode == null) {
            const done = new Promise((r) => this.proc.once('exit', r));
            this.proc.kill('SIGTERM');
            await Promise.race([done, sleep(10000)]);
            if (this.proc.exitCode == null) this.proc.kill('SIGKILL');
        }
        fs.rmSync(this.data, { recursive: true, force: true });
    }
}

/* Thrown by a module's setup() when what it tests is not in this build:
 * the runner reports the module as skipped (not passed) and names why. */
export class Skip extends Error {}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* playwright's launch() gives Chromium a fresh temporary profile
 * (--user-data-dir) of its own and removes it on close. */
export async function launch() {
    return chromium.launch({
        executablePath: CHROMIUM, headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
            '--disable-background-networking', '--disable-component-update',
            '--disable-sync', '--disable-dev-shm-usage'],
    });
}

export async function close(browser) {
    await browser.close();
}

/* A fresh context and page; CSP violations and page errors are kept in
 * page.problems so a test can insist there are none. */
export async function newPage(browser, opts = {}) {
    const ctx = await browser.newContext({
        ignoreHTTPSErrors: true, viewport: opts.viewport || { width: 1366, height: 860 },
        colorScheme: opts.colorScheme || 'light',
        permissions: ['clipboard-read', 'clipboard-write'],
    });
    const page = await ctx.newPage();
    page.problems = [];
    page.on('console', (m) => {
        const t = m.text();
        if (m.type() === 'error' && !/Failed to load resource/.test(t))
            page.problems.push(t);
        else if (/Content Security Policy|Refused to/.test(t)) page.problems.push(t);
    });
    page.on('pageerror', (e) => page.problems.push('page error: ' + e.message));
    page.setDefaultTimeout(10000);
    return page;
}

export async function shot(page, name) {
    fs.mkdirSync(SHOTS, { recursive: true });
    const file = path.join(SHOTS, name + '.png');
    await page.screenshot({ path: file });
    return file;
}

export function assert(cond, msg) {
    if (!cond) throw new Error('assertion failed: ' + msg);
}

/* The page, its files and its API calls came over HTTP/2 (playwright
 * and puppeteer pages alike; WebSockets are not in the list). */
export async function assertHttp2(page) {
    const protos = await page.evaluate(() => performance.getEntries()
        .filter((e) => typeof e.nextHopProtocol === 'string')
        .map((e) => `${e.nextHopProtocol} ${e.name}`));
    assert(protos.length > 2 && protos.every((p) => p.startsWith('h2 ')),
        'not all over h2: ' + protos.join(', '));
}

export async function login(page, url, user, password) {
    await page.goto(url + '/');
    await page.getByLabel('Username').fill(user);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
}
