// vmpage.jsx: one VM: its state and power actions (with the task's live
// progress), and tabs for graphs, console, configuration, snapshots and
// the audit trail.
import { useState } from 'preact/hooks';
import { can, del } from './api.js';
import { disks, networks, tasks, vms } from './data.js';
import { mib } from './format.js';
import { navigate } from './router.js';
import { useStore } from './store.js';
import { Confirm, ErrorText, Link, Progress, StateBadge, lazy, useAction } from './ui.jsx';
import { ACTIONS, allowed, runAction } from './vmactions.js';
import { isActive, taskLabel } from './tasks.jsx';
import { Graphs } from './graphs.jsx';
import { ConsoleTab } from './console.jsx';
import { VmConfig } from './vmconfig.jsx';
import { Snapshots } from './snapshots.jsx';
import { VmAudit } from './vmaudit.jsx';
import { DisplayTab } from './display.jsx';

const VmBackups = lazy(() => import('./backups.js'), 'VmBackups');

const TABS = [
    ['', 'Overview', 'viewer'], ['console', 'Console', 'operator'],
    ['display', 'Display', 'operator', (vm) => vm.boot && vm.boot.type === 'hvm'],
    ['config', 'Configuration', 'viewer'], ['snapshots', 'Snapshots', 'viewer'],
    ['backups', 'Backups', 'viewer'],
    ['audit', 'Audit trail', 'admin'],
];

function Actions({ vm }) {
    const a = useAction();
    const [ask, setAsk] = useState(null);
    const [taskId, setTaskId] = useState(null);
    const t = useStore(tasks);
    const task = taskId && t.get(taskId);
    const run = (act) => a.run(async () => {
        const r = await runAction(vm.id, act.op);
        setTaskId(r.id);
    });
    if (!can('operator')) return <p class="muted">Read-only: your role cannot change this VM.</p>;
    return <div class="vm-actions">
        <div class="button-row" role="group" aria-label="Power actions">
            {ACTIONS.map((act) => <button key={act.op} type="button"
                class={act.danger ? 'danger' : act.op === 'start' ? 'primary' : ''}
                disabled={!allowed(act, vm) || a.busy || (task && isActive(task))}
                onClick={() => act.confirm ? setAsk(act) : run(act)}>
                {act.label}</button>)}
            <button type="button" class="danger ghost" disabled={vm.state !== 'halted'}
                title={vm.state !== 'halted' ? 'Only a halted VM can be deleted' : ''}
                onClick={() => setAsk('delete')}>Delete</button>
        </div>
        <ErrorText error={a.error} />
        {task && <div class={'action-task ' + task.status} aria-live="polite">
            <span>{taskLabel(task)}: {task.status}</span>
            {isActive(task) && <Progress value={task.progress} busy
                label={'Progress of ' + taskLabel(task)} />}
            {task.status === 'failure' && task.error &&
                <span class="error">{task.error.message}</span>}
        </div>}
        {ask && <Confirm
            title={ask === 'delete' ? `Delete ${vm.name}?` : `${ask.label} ${vm.name}?`}
            text={ask === 'delete' ? 'The VM is removed; its disks stay, detached.' :
                ask.op === 'destroy' ? 'The VM is powered off at once, like pulling the plug. Unsaved data in the guest is lost.' :
                ask.op === 'reboot' ? 'The guest is asked to reboot.' :
                'The guest is asked to shut down cleanly.'}
            action={ask === 'delete' ? 'Delete' : ask.label}
            danger={ask === 'delete' || ask.danger}
            onConfirm={async () => {
                if (ask === 'delete') {
                    await del('/vms/' + vm.id);
                    navigate('/vms');
                } else {
                    const r = await runAction(vm.id, ask.op);
                    setTaskId(r.id);
                }
            }}
            onClose={() => setAsk(null)} />}
    </div>;
}

function Overview({ vm }) {
    const d = useStore(disks);
    const n = useStore(networks);
    const boot = vm.boot || {};
    return <div class="overview">
        <div class="cards">
            <section class="card" aria-labelledby="o-res">
                <h2 id="o-res">Resources</h2>
                <dl class="kv">
                    <dt>vCPUs</dt><dd>{vm.vcpus}</dd>
                    <dt>Memory</dt><dd>{mib(vm.memory_mib)}</dd>
                    <dt>Boot</dt><dd>{boot.type === 'hvm' ? 'HVM' :
                        `${(boot.type || '').toUpperCase()} · ${boot.kernel}`}</dd>
                    {vm.domid != null && <><dt>Domain id</dt><dd>{vm.domid}</dd></>}
                    <dt>Tags</dt><dd>{(vm.tags || []).map((t) =>
                        <span key={t} class="tag">{t}</span>)}
                        {!(vm.tags || []).length && '—'}</dd>
                </dl>
            </section>
            <section class="card" aria-labelledby="o-dev">
                <h2 id="o-dev">Devices</h2>
                <ul class="plain">
                    {(vm.disks || []).map((x) => <li key={x.device}>
                        <b>{x.device}</b> {d.get(x.disk) ? d.get(x.disk).name : x.disk}
                        <span class="muted"> {x.mode}</span></li>)}
                    {(vm.nics || []).map((x, i) => <li key={'n' + i}>
                        <b>eth{i}</b> {n.get(x.network) ? n.get(x.network).name : x.network}
                        <span class="muted"> {x.mac}</span></li>)}
                </ul>
            </section>
        </div>
        <Graphs vm={vm} />
    </div>;
}

export function VmPage({ id, tab = '' }) {
    const all = useStore(vms);
    const vm = all.get(id);
    if (!vm) return <div><h1>VM not found</h1>
        <p>It may have been deleted. <Link href="/vms">All VMs</Link></p></div>;
    const tabs = TABS.filter((x) => can(x[2]) && (!x[3] || x[3](vm)));
    return <div class="vm-page">
        <nav class="crumbs" aria-label="Breadcrumb"><Link href="/vms">Virtual machines</Link> / {vm.name}</nav>
        <div class="page-head">
            <div>
                <h1>{vm.name} <StateBadge state={vm.state} /></h1>
                {vm.description && <p class="sub">{vm.description}</p>}
            </div>
        </div>
        <Actions vm={vm} />
        <div class="tabs" role="tablist" aria-label="VM sections">
            {tabs.map(([k, l]) => <Link key={k} role="tab" aria-selected={tab === k}
                href={`/vms/${id}${k ? '/' + k : ''}`}
                class={tab === k ? 'active' : ''}>{l}</Link>)}
        </div>
        <div role="tabpanel" class="tabpanel">
            {tab === '' && <Overview vm={vm} />}
            {tab === 'console' && <ConsoleTab vm={vm} />}
            {tab === 'display' && <DisplayTab vm={vm} />}
            {tab === 'config' && <VmConfig vm={vm} />}
            {tab === 'snapshots' && <Snapshots vm={vm} />}
            {tab === 'backups' && <VmBackups vm={vm} />}
            {tab === 'audit' && <VmAudit vm={vm} />}
        </div>
    </div>;
}
