// dashboard.jsx: the host, VMs by state, storage, running tasks and the
// latest failures at a glance.
import { jobsApi, host, jobs, srs, tasks, vms } from './data.js';
import { bytes, duration, ago, zoned } from './format.js';
import { useStore } from './store.js';
import { Link, Meter, PageHead, Empty } from './ui.jsx';
import { TaskBar, newestFirst, taskLabel } from './tasks.jsx';

const RUN = { success: 'Succeeded', failure: 'Failed', running: 'Running',
    cancelled: 'Cancelled', interrupted: 'Interrupted' };

/* Each backup job's last result; a running one with its live bar. */
function BackupCard() {
    const j = useStore(jobs);
    const t = useStore(tasks);
    const list = [...j.values()].sort((a, b) => a.name.localeCompare(b.name));
    return <section class="card" aria-labelledby="d-bk">
        <h2 id="d-bk">Backups</h2>
        {list.length ? <ul class="task-mini backup-mini">
            {list.map((x) => {
                const lr = x.last_run;
                const run = lr && lr.status === 'running' && t.get(lr.task);
                return <li key={x.id}>
                    <span><Link href={'/backups/jobs/' + x.id}>{x.name}</Link>{' '}
                        {lr ? <span class={'status status-' + lr.status}>{RUN[lr.status] || lr.status}</span> :
                            <span class="muted">never run</span>}
                        {lr && lr.status !== 'running' && <span class="muted"> {ago(lr.finished || lr.started)}</span>}</span>
                    {run && <TaskBar t={run} label={'Backup of ' + x.name} />}
                    {lr && lr.error && <span class="error small">{lr.error}</span>}
                    {x.next_runs && x.next_runs[0] && <span class="muted small">
                        next {zoned(x.next_runs[0], x.timezone)}</span>}
                </li>;
            })}
        </ul> : <Empty>No backup job. <Link href="/backups/jobs">Set one up</Link>.</Empty>}
    </section>;
}

const STATES = ['running', 'paused', 'suspended', 'halted', 'crashed'];

export function Dashboard() {
    const h = useStore(host);
    const v = useStore(vms);
    const s = useStore(srs);
    const t = useStore(tasks);
    const counts = {};
    for (const vm of v.values()) counts[vm.state] = (counts[vm.state] || 0) + 1;
    const all = [...t.values()].sort(newestFirst);
    const running = all.filter((x) => x.status === 'running' || x.status === 'pending');
    const failed = all.filter((x) => x.status === 'failure').slice(0, 6);
    const bk = useStore(jobsApi);
    const memUsed = h ? h.memory_total_bytes - h.memory_free_bytes : 0;
    const used = [...s.values()].reduce((n, x) => n + (x.size_bytes - x.free_bytes), 0);
    const size = [...s.values()].reduce((n, x) => n + x.size_bytes, 0);
    return <div>
        <PageHead title="Dashboard" sub={h && `${h.hostname} · xenith ${h.version}`} />
        <div class="cards">
            <section class="card" aria-labelledby="d-host">
                <h2 id="d-host">Host</h2>
                {h && <dl class="kv">
                    <dt>Hypervisor</dt><dd>{h.hypervisor_version} ({h.driver})</dd>
                    <dt>CPUs</dt><dd>{h.cpus}</dd>
                    <dt>Uptime</dt><dd>{duration(h.uptime_s)}</dd>
                    <dt>Memory</dt><dd>{bytes(memUsed)} of {bytes(h.memory_total_bytes)}
                        <Meter used={memUsed} total={h.memory_total_bytes}
                            label="Host memory in use" /></dd>
                </dl>}
            </section>
            <section class="card" aria-labelledby="d-vms">
                <h2 id="d-vms">Virtual machines</h2>
                <p class="big-number">{v.size}</p>
                <ul class="state-counts">
                    {STATES.map((st) => <li key={st}>
                        <Link href={`/vms?state=${st}`} class={'state-' + st}>
                            <span class="dot" aria-hidden="true" />
                            <b>{counts[st] || 0}</b> {st}</Link></li>)}
                </ul>
            </section>
            <section class="card" aria-labelledby="d-sto">
                <h2 id="d-sto">Storage</h2>
                <p class="big-number">{bytes(used)} <small>of {bytes(size)}</small></p>
                <Meter used={used} total={size} label="Storage in use" />
                <ul class="sr-mini">
                    {[...s.values()].map((x) => <li key={x.id}>
                        <span>{x.name}</span>
                        <span>{bytes(x.free_bytes)} free</span>
                    </li>)}
                </ul>
                {!s.size && <Empty>No storage repository yet. <Link href="/storage">Add one</Link>.</Empty>}
            </section>
        </div>
        <div class="cards two">
            <section class="card" aria-labelledby="d-run">
                <h2 id="d-run">Running tasks</h2>
                {running.length ? <ul class="task-mini">
                    {running.map((x) => <li key={x.id}>
                        <span>{taskLabel(x)}</span>
                        <TaskBar t={x} label={taskLabel(x)} />
                    </li>)}
                </ul> : <Empty>Nothing is running.</Empty>}
            </section>
            {bk && <BackupCard />}
            <section class="card" aria-labelledby="d-fail">
                <h2 id="d-fail">Recent failures</h2>
                {failed.length ? <ul class="task-mini">
                    {failed.map((x) => <li key={x.id}>
                        <span>{taskLabel(x)} <span class="muted">{ago(x.finished_at)}</span></span>
                        <span class="error">{x.error && x.error.message}</span>
                    </li>)}
                </ul> : <Empty>No failed task.</Empty>}
            </section>
        </div>
    </div>;
}
