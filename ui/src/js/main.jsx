// main.jsx: start-up, the session life cycle and the application shell.
import '../css/app.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { del, get, session, setUnauthorizedHandler, can } from './api.js';
import { connectEvents, disconnectEvents, live, loadAll, tasks } from './data.js';
import { ChangePassword, Login, Logo } from './login.jsx';
import { match, navigate, path } from './router.js';
import { useStore } from './store.js';
import { Link, lazy } from './ui.jsx';
import { Dashboard } from './dashboard.jsx';
import { VmList } from './vmlist.jsx';
import { VmPage } from './vmpage.jsx';
import { Wizard } from './wizard.jsx';
import { Storage } from './storage.jsx';
import { Networks } from './networks.jsx';
import { Tasks } from './tasks.jsx';
import { Users } from './users.jsx';
import { Tokens } from './tokens.jsx';
import { Audit } from './audit.jsx';
import { Pool } from './pool.jsx';
import { Settings } from './settings.jsx';
import { ConsoleFull } from './console.jsx';
import { DisplayFull } from './display.jsx';

// The backup screens are a chunk of their own, loaded on first visit.
const loadBackups = () => import('./backups.js');
const Repositories = lazy(loadBackups, 'Repositories');
const RepoSnapshots = lazy(loadBackups, 'RepoSnapshots');
const Jobs = lazy(loadBackups, 'Jobs');
const JobHistory = lazy(loadBackups, 'JobHistory');

const NAV = [
    ['/', 'Dashboard', 'viewer'],
    ['/vms', 'Virtual machines', 'viewer'],
    ['/storage', 'Storage', 'viewer'],
    ['/networks', 'Networks', 'viewer'],
    ['/backups/repositories', 'Repositories', 'viewer', 'Backups'],
    ['/backups/jobs', 'Jobs', 'viewer', 'Backups'],
    ['/tasks', 'Tasks', 'viewer'],
    ['/pool', 'Pool', 'viewer'],
    ['/users', 'Users', 'admin'],
    ['/tokens', 'API tokens', 'viewer'],
    ['/audit', 'Audit log', 'admin'],
    ['/settings', 'Settings', 'viewer'],
];

const ROUTES = [
    ['/', Dashboard], ['/vms', VmList], ['/vms/new', Wizard],
    ['/vms/:id', VmPage], ['/vms/:id/:tab', VmPage], ['/storage', Storage],
    ['/networks', Networks], ['/tasks', Tasks], ['/pool', Pool], ['/users', Users],
    ['/tokens', Tokens], ['/audit', Audit], ['/settings', Settings],
    ['/backups', Repositories], ['/backups/repositories', Repositories],
    ['/backups/repositories/:id', RepoSnapshots],
    ['/backups/jobs', Jobs], ['/backups/jobs/:id', JobHistory],
];

/* The main menu; entries with a group (the fourth field) are listed
 * under its heading. */
function NavList({ active, onPick }) {
    const items = NAV.filter((n) => can(n[2]));
    const out = [];
    for (let i = 0; i < items.length; i++) {
        const [href, label, , group] = items[i];
        if (!group) {
            out.push(<li key={href}><Link href={href}
                aria-current={active(href) ? 'page' : undefined}
                onClick={onPick}>{label}</Link></li>);
            continue;
        }
        const sub = [];
        while (i < items.length && items[i][3] === group) sub.push(items[i++]);
        i--;
        const id = 'nav-' + group.toLowerCase();
        out.push(<li key={id} class="nav-group">
            <span id={id} class="nav-group-label">{group}</span>
            <ul aria-labelledby={id}>{sub.map(([h, l]) => <li key={h}>
                <Link href={h} aria-current={active(h) ? 'page' : undefined}
                    onClick={onPick}>{l}</Link></li>)}</ul>
        </li>);
    }
    return <ul>{out}</ul>;
}

let expired = false;

async function logout() {
    try {
        await del('/session');
    } catch (e) {
        /* gone already */
    }
    disconnectEvents();
    session.set(null);
    navigate('/', true);
}

setUnauthorizedHandler(() => {
    if (!session.get()) return;
    expired = true;
    disconnectEvents();
    session.set(null);
});

function Shell() {
    const p = useStore(path);
    const s = useStore(session);
    const l = useStore(live);
    const t = useStore(tasks);
    const [ready, setReady] = useState(false);
    const [err, setErr] = useState(null);
    const [menu, setMenu] = useState(false);
    useEffect(() => {
        loadAll().then(() => setReady(true), setErr);
        connectEvents();
        return disconnectEvents;
    }, []);
    const full = match('/vms/:id/console/full', p);
    if (full) return <ConsoleFull id={full.id} />;
    const fullDisplay = match('/vms/:id/display/full', p);
    if (fullDisplay) return <DisplayFull id={fullDisplay.id} />;
    let view = <NotFound />;
    for (const [pat, C] of ROUTES) {
        const m = match(pat, p);
        if (m && !(pat === '/vms/:id' && m.id === 'new')) {
            view = <C {...m} />;
            break;
        }
    }
    const running = [...t.values()].filter((x) =>
        x.status === 'running' || x.status === 'pending').length;
    const active = (href) => href === '/' ? p === '/' :
        p === href || p.startsWith(href + '/');
    return <div class={'shell' + (menu ? ' menu-open' : '')}>
        <a class="skip" href="#main">Skip to content</a>
        <header class="topbar">
            <button class="icon menu-btn" aria-label="Menu"
                aria-expanded={menu} onClick={() => setMenu(!menu)}>☰</button>
            <Link href="/" class="brand"><Logo /> xenith</Link>
            <span class={'live ' + l} role="status"
                title="Live updates from the server">
                <span class="dot" aria-hidden="true" />
                {l === 'live' ? 'Live' : l === 'down' ? 'Reconnecting…' : 'Connecting…'}
            </span>
            <span class="spacer" />
            <Link href="/tasks" class="tasks-pill"
                aria-label={`${running} running tasks`}>
                {running ? <span class="spin" aria-hidden="true" /> : null}
                Tasks {running ? <b>{running}</b> : null}
            </Link>
            <span class="user" aria-label="Logged in as">
                {s.user.username} <span class="role">{s.user.role}</span>
            </span>
            <button type="button" onClick={logout}>Log out</button>
        </header>
        <nav class="sidebar" aria-label="Main">
            <NavList active={active} onPick={() => setMenu(false)} />
        </nav>
        <main id="main" tabIndex={-1}>
            {err ? <p class="error" role="alert">{err.message}</p> :
                ready ? view : <p class="loading">Loading…</p>}
        </main>
    </div>;
}

function NotFound() {
    return <div><h1>Not found</h1><p>No such page. <Link href="/">Go to the
        dashboard</Link>.</p></div>;
}

function App() {
    const s = useStore(session);
    const [checked, setChecked] = useState(false);
    useEffect(() => {
        get('/session', { noRedirect: true })
            .then((x) => session.set(x), () => {})
            .finally(() => setChecked(true));
    }, []);
    if (!checked) return <p class="boot">Loading xenith…</p>;
    if (!s) return <Login expired={expired} />;
    if (s.user.must_change_password) return <ChangePassword onLogout={logout} />;
    expired = false;
    return <Shell />;
}

render(<App />, document.getElementById('app'));
