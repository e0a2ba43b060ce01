// vmview.jsx: what the console and the display share: the tab that needs
// the VM running, and the page of its own ("Open in a tab").
import { useEffect } from 'preact/hooks';
import { vms } from './data.js';
import { useStore } from './store.js';
import { Link } from './ui.jsx';

/* View (Terminal or Screen) while the VM runs; what says what it is. */
export function LiveTab({ vm, what, View }) {
    if (vm.state !== 'running' && vm.state !== 'paused')
        return <p class="empty">The {what} is there while the VM runs; it is {vm.state}.</p>;
    return <View vm={vm} />;
}

/* View full-page for VM id, the tab titled "<name> · what". */
export function FullPage({ id, what, View }) {
    const all = useStore(vms);
    const vm = all.get(id);
    useEffect(() => {
        document.title = vm ? `${vm.name} · ${what}` : what;
    }, [vm && vm.name]);
    if (!vm) return <p class="loading">Loading…</p>;
    return <div class="console-page"><View vm={vm} full /></div>;
}

/* The toolbar both share: the connection state, the view's own buttons
 * (children), then Reconnect (when closed), Full screen and, outside
 * the page of its own, "Open in a tab" (href). */
export function ViewBar({ label, status, reason, onReconnect, onFull, full, href, children }) {
    return <div class="console-bar" role="toolbar" aria-label={label}>
        <span class={'conn ' + status} role="status">
            {status === 'connected' ? 'Connected' : status === 'closed' ?
                `Disconnected${reason ? ': ' + reason : ''}` : 'Connecting…'}</span>
        <span class="spacer" />
        {children}
        {status === 'closed' && <button type="button" class="small primary"
            onClick={onReconnect}>Reconnect</button>}
        <button type="button" class="small" onClick={onFull}>Full screen</button>
        {!full && <Link class="button small" href={href} target="_blank">Open in a tab</Link>}
    </div>;
}
