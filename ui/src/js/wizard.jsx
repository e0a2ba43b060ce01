// wizard.jsx: create a VM in five steps: name and boot, resources, disk
// (new or existing), network, review. A new disk is created first; if
// the VM then fails, the disk is deleted again.
import { useState } from 'preact/hooks';
import { del, post, can } from './api.js';
import { disks, networks, srs, put, vms } from './data.js';
import { bytes } from './format.js';
import { navigate } from './router.js';
import { useStore } from './store.js';
import { ErrorText, Field, Link, PageHead, useAction } from './ui.jsx';
import { parseTags } from './vmconfig.jsx';

export function bootBody(b) {
    if (b.type === 'hvm') return { type: 'hvm', cdrom: b.cdrom || null };
    return { type: b.type, kernel: b.kernel, ramdisk: b.ramdisk || '',
        cmdline: b.cmdline || '' };
}

export function BootFields({ boot, onChange, disks: all }) {
    const set = (k, v) => onChange({ ...boot, [k]: v });
    return <div class="boot-fields">
        <fieldset class="radios">
            <legend>Boot type</legend>
            {[['pv', 'PV', 'Paravirtualized: boots a kernel from dom0'],
                ['pvh', 'PVH', 'Lighter PV with hardware help'],
                ['hvm', 'HVM', 'Full virtualization: boots from a disk or installation media']]
                .map(([v, l, h]) => <label key={v} class="radio">
                    <input type="radio" name="boot-type" value={v} checked={boot.type === v}
                        onChange={() => set('type', v)} />
                    <span><b>{l}</b> <span class="muted">{h}</span></span>
                </label>)}
        </fieldset>
        {boot.type === 'hvm' ? <Field label="Installation media (CD-ROM)"
            hint="A disk holding the installer image; import one under Storage.">
            <select value={boot.cdrom || ''} onChange={(e) => set('cdrom', e.target.value)}>
                <option value="">none</option>
                {[...all.values()].map((d) => <option key={d.id} value={d.id}>
                    {d.name} ({bytes(d.size_bytes)})</option>)}
            </select></Field> : <>
            <Field label="Kernel" hint="Absolute path in dom0"><input required
                placeholder="/boot/vmlinuz" value={boot.kernel}
                onInput={(e) => set('kernel', e.target.value)} /></Field>
            <Field label="Initrd (optional)"><input placeholder="/boot/initrd.img"
                value={boot.ramdisk} onInput={(e) => set('ramdisk', e.target.value)} /></Field>
            <Field label="Kernel command line (optional)"><input
                placeholder="console=hvc0 root=/dev/xvda1" value={boot.cmdline}
                onInput={(e) => set('cmdline', e.target.value)} /></Field>
        </>}
    </div>;
}

const STEPS = ['Name and boot', 'Resources', 'Disk', 'Network', 'Review'];
const GIB = 1073741824;

export function Wizard() {
    const allDisks = useStore(disks);
    const allSrs = useStore(srs);
    const nets = useStore(networks);
    const [step, setStep] = useState(0);
    const srList = [...allSrs.values()];
    const free = [...allDisks.values()].filter((d) => !d.attached && !d.snapshot_of);
    const [f, setF] = useState({
        name: '', description: '', tags: '',
        boot: { type: 'pv', kernel: '', ramdisk: '', cmdline: '', cdrom: '' },
        vcpus: 1, memory_mib: 1024,
        disk: srList.length ? 'new' : 'none', diskName: '', diskSize: 10,
        sr: srList.length ? srList[0].id : '', existing: '',
        network: nets.size ? [...nets.keys()][0] : '', start: true,
    });
    const a = useAction();
    const set = (k, v) => setF({ ...f, [k]: v });
    if (!can('operator')) return <p>Your role cannot create VMs.</p>;

    const next = (e) => {
        e.preventDefault();
        if (step < STEPS.length - 1) setStep(step + 1);
        else create();
    };
    const create = () => a.run(async () => {
        let diskId = f.disk === 'existing' ? f.existing : null;
        let made = null;
        if (f.disk === 'new') {
            made = await post('/disks', { name: f.diskName || f.name + '-disk0',
                sr: f.sr, size_bytes: Math.round(Number(f.diskSize) * GIB) });
            put(disks, made);
            diskId = made.id;
        }
        const body = {
            name: f.name, description: f.description, tags: parseTags(f.tags),
            vcpus: Number(f.vcpus), memory_mib: Number(f.memory_mib),
            boot: bootBody(f.boot),
            disks: diskId ? [{ disk: diskId, device: 'xvda' }] : [],
            nics: f.network ? [{ network: f.network }] : [],
        };
        let vm;
        try {
            vm = await post('/vms', body);
        } catch (e) {
            if (made) await del('/disks/' + made.id).catch(() => {});
            throw e;
        }
        put(vms, vm);
        if (f.start) await post(`/vms/${vm.id}/start`).catch(() => {});
        navigate('/vms/' + vm.id);
    });

    const diskLabel = f.disk === 'new' ? `new ${f.diskSize} GiB disk on ${
        allSrs.get(f.sr) ? allSrs.get(f.sr).name : '?'}` : f.disk === 'existing' ?
        (allDisks.get(f.existing) || {}).name : 'none';
    return <div class="wizard">
        <PageHead title="New virtual machine" />
        <ol class="steps" aria-label="Steps">
            {STEPS.map((s, i) => <li key={s} class={i === step ? 'current' : i < step ? 'done' : ''}
                aria-current={i === step ? 'step' : undefined}>
                <button type="button" disabled={i > step} onClick={() => setStep(i)}>
                    <span class="num">{i + 1}</span> {s}</button></li>)}
        </ol>
        <form class="card wizard-body" onSubmit={next} aria-label={STEPS[step]}>
            <h2>{STEPS[step]}</h2>
            {step === 0 && <>
                <Field label="Name" hint="Letters, digits, space, dot, dash and underscore">
                    <input required maxLength={64} value={f.name} autofocus
                        onInput={(e) => set('name', e.target.value)} /></Field>
                <Field label="Description (optional)"><input value={f.description}
                    onInput={(e) => set('description', e.target.value)} /></Field>
                <Field label="Tags (optional)" hint="Comma separated"><input value={f.tags}
                    onInput={(e) => set('tags', e.target.value)} /></Field>
                <BootFields boot={f.boot} onChange={(b) => set('boot', b)} disks={allDisks} />
            </>}
            {step === 1 && <div class="row2">
                <Field label="vCPUs"><input type="number" min="1" max="128" required
                    value={f.vcpus} onInput={(e) => set('vcpus', e.target.value)} /></Field>
                <Field label="Memory (MiB)"><input type="number" min="16" step="16" required
                    value={f.memory_mib} onInput={(e) => set('memory_mib', e.target.value)} /></Field>
            </div>}
            {step === 2 && <>
                <fieldset class="radios"><legend>System disk</legend>
                    <label class="radio"><input type="radio" name="disk" checked={f.disk === 'new'}
                        disabled={!srList.length} onChange={() => set('disk', 'new')} /> A new disk</label>
                    <label class="radio"><input type="radio" name="disk" checked={f.disk === 'existing'}
                        disabled={!free.length} onChange={() => setF({ ...f, disk: 'existing',
                            existing: f.existing || (free[0] && free[0].id) })} />
                        An existing disk {!free.length && <span class="muted">(no free disk)</span>}</label>
                    <label class="radio"><input type="radio" name="disk" checked={f.disk === 'none'}
                        onChange={() => set('disk', 'none')} /> No disk</label>
                </fieldset>
                {f.disk === 'new' && <>
                    <Field label="Storage repository"><select value={f.sr}
                        onChange={(e) => set('sr', e.target.value)}>
                        {srList.map((s) => <option key={s.id} value={s.id}>
                            {s.name} ({bytes(s.free_bytes)} free)</option>)}</select></Field>
                    <div class="row2">
                        <Field label="Disk name"><input value={f.diskName}
                            placeholder={(f.name || 'vm') + '-disk0'}
                            onInput={(e) => set('diskName', e.target.value)} /></Field>
                        <Field label="Size (GiB)"><input type="number" min="0.001" step="any" required
                            value={f.diskSize} onInput={(e) => set('diskSize', e.target.value)} /></Field>
                    </div>
                </>}
                {f.disk === 'existing' && <Field label="Disk"><select value={f.existing}
                    onChange={(e) => set('existing', e.target.value)}>
                    {free.map((d) => <option key={d.id} value={d.id}>{d.name} ({bytes(d.size_bytes)})</option>)}
                </select></Field>}
                {!srList.length && <p class="muted">No storage repository: <Link href="/storage">add one</Link> to create disks.</p>}
            </>}
            {step === 3 && <Field label="Network">
                <select value={f.network} onChange={(e) => set('network', e.target.value)}>
                    <option value="">no network</option>
                    {[...nets.values()].map((n) => <option key={n.id} value={n.id}>
                        {n.name} ({n.bridge})</option>)}
                </select></Field>}
            {step === 4 && <>
                <dl class="kv review">
                    <dt>Name</dt><dd>{f.name}</dd>
                    <dt>Boot</dt><dd>{f.boot.type.toUpperCase()} {f.boot.type !== 'hvm' ? f.boot.kernel : ''}</dd>
                    <dt>vCPUs</dt><dd>{f.vcpus}</dd>
                    <dt>Memory</dt><dd>{f.memory_mib} MiB</dd>
                    <dt>Disk</dt><dd>{diskLabel}</dd>
                    <dt>Network</dt><dd>{nets.get(f.network) ? nets.get(f.network).name : 'none'}</dd>
                </dl>
                <label class="check"><input type="checkbox" checked={f.start}
                    onChange={(e) => set('start', e.target.checked)} /> Start it now</label>
            </>}
            <ErrorText error={a.error} />
            <div class="form-foot">
                <Link class="button" href="/vms">Cancel</Link>
                {step > 0 && <button type="button" onClick={() => setStep(step - 1)}>Back</button>}
                <button type="submit" class="primary" disabled={a.busy}>
                    {step < STEPS.length - 1 ? 'Next' : a.busy ? 'Creating…' : 'Create VM'}</button>
            </div>
        </form>
    </div>;
}
