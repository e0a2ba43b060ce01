// display.jsx: an HVM VM's graphical console: noVNC speaking RFB over
// /api/v1/vms/{id}/vnc (the daemon did the VNC password handshake; the
// session is the authentication). Ctrl-Alt-Del, scaling, clipboard both
// ways, full screen and a tab of its own. noVNC is loaded on first use.
import { useEffect, useRef, useState } from 'preact/hooks';
import { wsUrl } from './data.js';
import { ErrorText, Modal } from './ui.jsx';
import { FullPage, LiveTab, ViewBar } from './vmview.jsx';

let lib = null;
function loadNoVnc() {
    if (!lib) lib = import('@novnc/novnc');
    return lib;
}

function Screen({ vm, full }) {
    const box = useRef();
    const rfbRef = useRef(null);
    const [status, setStatus] = useState('connecting');
    const [reason, setReason] = useState('');
    const [err, setErr] = useState(null);
    const [scale, setScale] = useState(true);
    const [clip, setClip] = useState(null); // the clipboard dialog's text
    const [remote, setRemote] = useState('');
    const [gen, setGen] = useState(0);

    useEffect(() => {
        let dead = false;
        let rfb = null;
        loadNoVnc().then(({ default: RFB }) => {
            if (dead) return;
            rfb = new RFB(box.current, wsUrl(`/vms/${vm.id}/vnc`), { wsProtocols: ['binary'] });
            rfb.scaleViewport = scale;
            rfb.focusOnClick = true;
            rfb.addEventListener('connect', () => {
                setStatus('connected');
                rfb.focus();
            });
            rfb.addEventListener('disconnect', (e) => {
                setStatus('closed');
                setReason(e.detail.clean ? '' : 'connection lost');
            });
            rfb.addEventListener('clipboard', (e) => setRemote(e.detail.text));
            rfb.addEventListener('securityfailure', (e) =>
                setErr('The display refused the connection: ' + (e.detail.reason || e.detail.status)));
            rfbRef.current = rfb;
        }, (e) => setErr(e));
        return () => {
            dead = true;
            if (rfb) rfb.disconnect();
            rfbRef.current = null;
        };
    }, [vm.id, gen]);

    const toggleScale = () => {
        const next = !scale;
        setScale(next);
        if (rfbRef.current) rfbRef.current.scaleViewport = next;
    };
    const goFull = () => {
        const el = box.current.closest('.console');
        if (el.requestFullscreen) el.requestFullscreen().catch(() => {});
    };
    const sendClip = (e) => {
        e.preventDefault();
        if (rfbRef.current) rfbRef.current.clipboardPasteFrom(clip);
        setClip(null);
    };
    const live = status === 'connected';
    return <div class={'console display' + (full ? ' full' : '')}>
        <ViewBar label="Display" status={status} reason={reason} full={full}
            href={`/vms/${vm.id}/display/full`} onFull={goFull}
            onReconnect={() => {
                setStatus('connecting');
                setGen(gen + 1);
            }}>
            <button type="button" class="small" disabled={!live}
                onClick={() => rfbRef.current.sendCtrlAltDel()}>Send Ctrl-Alt-Del</button>
            <button type="button" class="small" aria-pressed={scale} onClick={toggleScale}>
                Scale to fit</button>
            <button type="button" class="small" disabled={!live}
                onClick={() => setClip(remote)}>Clipboard…</button>
        </ViewBar>
        <ErrorText error={err} />
        <div class="screen" ref={box} aria-label={`Display of ${vm.name}`} />
        {clip != null && <Modal title="Clipboard" onClose={() => setClip(null)}>
            <form onSubmit={sendClip}>
                <div class="modal-body">
                    <label class="field"><span class="label">
                        The VM's clipboard; edit and send it back</span>
                    <textarea rows={6} value={clip} autofocus
                        onInput={(e) => setClip(e.target.value)} /></label>
                </div>
                <footer>
                    <button type="button" onClick={() => setClip(null)}>Close</button>
                    <button type="submit" class="primary">Send to the VM</button>
                </footer>
            </form>
        </Modal>}
    </div>;
}

export const DisplayTab = ({ vm }) => <LiveTab vm={vm} what="display" View={Screen} />;

export const DisplayFull = ({ id }) => <FullPage id={id} what="display" View={Screen} />;
