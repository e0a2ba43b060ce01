// data.js: the objects every screen shows, loaded once after log-in and
// then kept current by /api/v1/events (no polling). Each collection is a
// Map id -> object inside a store, replaced (not mutated) on change.
import { get } from './api.js';
import { store } from './store.js';

export const vms = store(new Map());
export const tasks = store(new Map());
export const srs = store(new Map());
export const disks = store(new Map());
export const networks = store(new Map());
export const host = store(null);
// Backups (issue 4's API): repositories and jobs like the collections
// above; backupSeq counts backup events so lists without a store of their
// own (runs, snapshots) know when to reload. backupApi: false when this
// xenithd has no backup API (404), and the screens say so.
export const repos = store(new Map());
export const jobs = store(new Map());
export const backupSeq = store(0);
export const backupApi = store(true);
export const jobsApi = store(true); // the jobs half of it
export const live = store('connecting'); // events socket: connecting|live|down

const COLLECTIONS = {
    vm: [vms, '/vms/'], task: [tasks, '/tasks/'], sr: [srs, '/srs/'],
    disk: [disks, '/disks/'], network: [networks, '/networks/'],
    repository: [repos, '/backup/repositories/'], job: [jobs, '/backup/jobs/'],
};

function byId(list) {
    return new Map(list.map((o) => [o.id, o]));
}

export function put(s, obj) {
    s.set((m) => new Map(m).set(obj.id, { ...m.get(obj.id), ...obj }));
}

export function drop(s, id) {
    s.set((m) => {
        const n = new Map(m);
        n.delete(id);
        return n;
    });
}

export async function loadAll() {
    const [v, t, r, d, n, h] = await Promise.all([
        get('/vms'), get('/tasks?limit=200'), get('/srs'), get('/disks'),
        get('/networks'), get('/host'),
    ]);
    vms.set(byId(v));
    tasks.set(byId(t));
    srs.set(byId(r));
    disks.set(byId(d));
    networks.set(byId(n));
    host.set(h);
    await loadBackups();
}

/* The backup collections; a daemon without the backup API (404) leaves
 * them empty (and backupApi false) instead of failing the whole start-up.
 * Each half is loaded on its own: repositories and jobs come from two
 * parts of the server that may land one after the other. */
export async function loadBackups() {
    const one = (p) => get(p).catch((e) => {
        if (e.status === 404 || e.status === 501) return null;
        throw e;
    });
    const [r, j] = await Promise.all([one('/backup/repositories'), one('/backup/jobs')]);
    repos.set(byId(r || []));
    jobs.set(byId(j || []));
    backupApi.set(!!(r || j));
    jobsApi.set(!!j);
}

// Per object, a count of the events that carried its state: a GET
// started before a newer event arrived must not overwrite it.
const seen = new Map();
let seq = 0;

export async function refresh(type, id) {
    const c = COLLECTIONS[type];
    if (!c) return;
    const mark = seen.get(id);
    try {
        const o = await get(c[1] + id, { noRedirect: true });
        if (seen.get(id) === mark) put(c[0], o);
    } catch (e) {
        if (e.status === 404 && seen.get(id) === mark) drop(c[0], id);
    }
}

/* {"type":"backup","kind":"repository"|"job"|"run",...}: the kind may
 * also travel inside data. A run changes its job's last_run and next
 * runs, so the job is fetched again (runs carry no job id in the event). */
function onBackupEvent(ev) {
    const kind = ev.kind || (ev.data && ev.data.kind);
    backupSeq.set((n) => n + 1);
    if (kind === 'run') {
        const job = ev.data && ev.data.job;
        if (job) refresh('job', job);
        else reloadJobs();
        return;
    }
    if (!COLLECTIONS[kind]) return;
    onEvent({ ...ev, type: kind, data: null });
}

let jobTimer = 0;
function reloadJobs() {
    clearTimeout(jobTimer);
    jobTimer = setTimeout(() => get('/backup/jobs', { noRedirect: true })
        .then((l) => jobs.set(byId(l))).catch(() => {}), 200);
}

function onEvent(ev) {
    if (ev.type === 'backup') return onBackupEvent(ev);
    const c = COLLECTIONS[ev.type];
    if (!c) return;
    seen.set(ev.id, ++seq);
    if (ev.action === 'deleted') {
        drop(c[0], ev.id);
    } else if (ev.data) {
        put(c[0], { id: ev.id, ...ev.data });
        // Disk use and SR free space move together.
        if (ev.type === 'disk') refreshSrs();
    } else {
        refresh(ev.type, ev.id);
    }
}

let srTimer = 0;
function refreshSrs() {
    clearTimeout(srTimer);
    srTimer = setTimeout(() => get('/srs', { noRedirect: true })
        .then((l) => srs.set(byId(l))).catch(() => {}), 300);
}

let ws = null;
let stopped = true;

export function wsUrl(path) {
    return (location.protocol === 'https:' ? 'wss://' : 'ws://') +
        location.host + '/api/v1' + path;
}

export function connectEvents() {
    stopped = false;
    let backoff = 500;
    const open = () => {
        if (stopped) return;
        live.set('connecting');
        ws = new WebSocket(wsUrl('/events'));
        ws.onopen = () => {
            const wasDown = backoff > 500;
            backoff = 500;
            live.set('live');
            // Catch up on what happened while the socket was down.
            if (wasDown) loadAll().catch(() => {});
        };
        ws.onmessage = (m) => {
            try {
                onEvent(JSON.parse(m.data));
            } catch (e) {
                /* not JSON: ignore */
            }
        };
        ws.onclose = () => {
            ws = null;
            if (stopped) return;
            live.set('down');
            // Refused because the session ended? GET /session answers 401
            // and api.js returns to the log-in page.
            get('/session').catch(() => {});
            setTimeout(open, backoff);
            backoff = Math.min(backoff * 2, 10000);
        };
    };
    open();
}

export function disconnectEvents() {
    stopped = true;
    if (ws) ws.close();
    ws = null;
}
