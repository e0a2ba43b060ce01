// console.jsx: the VM's text console over /api/v1/vms/{id}/console with
// xterm.js (binary frames both ways): copy, paste, paste as keystrokes,
// fit to the window, and full screen. xterm.js and its stylesheet are
// loaded on first use; the canvas renderer keeps it inside the CSP (the
// DOM renderer would add <style> elements).
import { useEffect, useRef, useState } from 'preact/hooks';
import { wsUrl } from './data.js';
import { ErrorText, Modal } from './ui.jsx';
import { FullPage, LiveTab, ViewBar } from './vmview.jsx';

let libs = null;
function loadXterm() {
    if (!libs)
        libs = Promise.all([import('@xterm/xterm'), import('@xterm/addon-fit'),
            import('@xterm/addon-canvas'), import('@xterm/xterm/css/xterm.css')]);
    return libs;
}

const enc = new TextEncoder();

function Terminal({ vm, full }) {
    const box = useRef();
    const ref = useRef({});
    const [status, setStatus] = useState('connecting');
    const [reason, setReason] = useState('');
    const [err, setErr] = useState(null);
    const [typing, setTyping] = useState(false);
    const [gen, setGen] = useState(0);

    useEffect(() => {
        let dead = false;
        let term, ws, ro;
        loadXterm().then(([X, F, C]) => {
            if (dead) return;
            const dark = matchMedia('(prefers-color-scheme: dark)').matches;
            term = new X.Terminal({
                cursorBlink: true, screenReaderMode: true, fontSize: 14,
                // Some guests (and the test driver) end lines with a bare LF.
                convertEol: true,
                fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, monospace',
                theme: dark ? { background: '#0d1117', foreground: '#d6dde6' } :
                    { background: '#101418', foreground: '#e6e9ee' },
            });
            const fit = new F.FitAddon();
            term.loadAddon(fit);
            term.loadAddon(new C.CanvasAddon());
            term.open(box.current);
            fit.fit();
            term.focus();
            ro = new ResizeObserver(() => {
                try {
                    fit.fit();
                } catch (e) { /* hidden */ }
            });
            ro.observe(box.current);
            ws = new WebSocket(wsUrl(`/vms/${vm.id}/console`));
            ws.binaryType = 'arraybuffer';
            ws.onopen = () => setStatus('connected');
            ws.onmessage = (m) => term.write(typeof m.data === 'string' ?
                m.data : new Uint8Array(m.data));
            ws.onclose = (e) => {
                setStatus('closed');
                setReason(e.reason || (e.code === 1006 ? 'connection lost' : ''));
            };
            term.onData((d) => {
                if (ws.readyState === 1) ws.send(enc.encode(d));
            });
            ref.current = { term, ws };
        }, (e) => setErr(e));
        return () => {
            dead = true;
            if (ro) ro.disconnect();
            if (ws) ws.close();
            if (term) term.dispose();
            ref.current = {};
        };
    }, [vm.id, gen]);

    const send = (s) => {
        const { ws } = ref.current;
        if (ws && ws.readyState === 1) ws.send(enc.encode(s));
    };
    const copy = async () => {
        const { term } = ref.current;
        if (!term) return;
        const text = term.hasSelection() ? term.getSelection() : '';
        try {
            await navigator.clipboard.writeText(text);
            setErr(text ? null : 'Select text in the console first.');
        } catch (e) {
            setErr('The browser refused clipboard access: ' + e.message);
        }
    };
    const paste = async () => {
        try {
            const t = await navigator.clipboard.readText();
            ref.current.term.paste(t);
        } catch (e) {
            setErr('The browser refused clipboard access: ' + e.message);
        }
    };
    const goFull = () => {
        const el = box.current.closest('.console');
        if (el.requestFullscreen) el.requestFullscreen().catch(() => {});
        setTimeout(() => ref.current.term && ref.current.term.focus(), 100);
    };
    return <div class={'console' + (full ? ' full' : '')}>
        <ViewBar label="Console" status={status} reason={reason} full={full}
            href={`/vms/${vm.id}/console/full`} onFull={goFull}
            onReconnect={() => {
                setStatus('connecting');
                setGen(gen + 1);
            }}>
            <button type="button" class="small" onClick={copy}>Copy</button>
            <button type="button" class="small" onClick={paste}>Paste</button>
            <button type="button" class="small" onClick={() => setTyping(true)}>
                Paste as keystrokes…</button>
            <button type="button" class="small" onClick={() => send('\x03')}
                aria-label="Send Ctrl-C">Ctrl-C</button>
        </ViewBar>
        <ErrorText error={err} />
        <div class="term" ref={box} aria-label={`Console of ${vm.name}`} />
        {typing && <TypeText onClose={() => setTyping(false)} send={send} />}
    </div>;
}

/* Send text one key at a time, for guests that drop pasted bursts. */
function TypeText({ onClose, send }) {
    const [text, setText] = useState('');
    const [left, setLeft] = useState(null);
    const go = async (e) => {
        e.preventDefault();
        const chars = [...text.replace(/\r?\n/g, '\r')];
        for (let i = 0; i < chars.length; i++) {
            send(chars[i]);
            setLeft(chars.length - i - 1);
            await new Promise((r) => setTimeout(r, 15));
        }
        onClose();
    };
    return <Modal title="Paste as keystrokes" onClose={onClose}>
        <form onSubmit={go}>
            <div class="modal-body">
                <label class="field"><span class="label">Text to type into the console</span>
                    <textarea rows={6} value={text} autofocus
                        onInput={(e) => setText(e.target.value)} /></label>
                {left != null && <p role="status">{left} characters left…</p>}
            </div>
            <footer>
                <button type="button" onClick={onClose}>Cancel</button>
                <button type="submit" class="primary" disabled={!text || left != null}>Type it</button>
            </footer>
        </form>
    </Modal>;
}

export const ConsoleTab = ({ vm }) => <LiveTab vm={vm} what="console" View={Terminal} />;

export const ConsoleFull = ({ id }) => <FullPage id={id} what="console" View={Terminal} />;
