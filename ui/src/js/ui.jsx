// ui.jsx: the small parts every screen is made of.
import { cloneElement } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { get } from './api.js';
import { navigate } from './router.js';

export function Link({ href, children, onClick, ...rest }) {
    const click = (e) => {
        if (onClick) onClick(e);
        if (e.button || e.metaKey || e.ctrlKey || e.shiftKey || rest.target) return;
        e.preventDefault();
        navigate(href);
    };
    return <a href={href} onClick={click} {...rest}>{children}</a>;
}

/* An API error in words, next to what caused it. */
export function ErrorText({ error, id }) {
    if (!error) return null;
    const msg = typeof error === 'string' ? error : error.message;
    const field = error.field ? ` (${error.field})` : '';
    return <p class="error" role="alert" id={id}>{msg}{field}</p>;
}

/* Run an async action with busy state and error capture. */
export function useAction() {
    const [busy, setBusy] = useState(false);
    const [error, setError] = useState(null);
    const run = async (f) => {
        setBusy(true);
        setError(null);
        try {
            return await f();
        } catch (e) {
            setError(e);
            return undefined;
        } finally {
            setBusy(false);
        }
    };
    return { busy, error, setError, run };
}

const STATE_LABEL = {
    running: 'Running', halted: 'Halted', paused: 'Paused',
    suspended: 'Suspended', crashed: 'Crashed', starting: 'Starting',
};

export function StateBadge({ state }) {
    return <span class={'badge state-' + state}>
        <span class="dot" aria-hidden="true" />{STATE_LABEL[state] || state}
    </span>;
}

/* A progress bar; with busy and no progress yet, an indeterminate one. */
export function Progress({ value, label, status, busy }) {
    const v = Math.max(0, Math.min(1, value || 0));
    const unknown = busy && !v;
    return <div class={'progress ' + (status || '') + (unknown ? ' indeterminate' : '')}
        role="progressbar" aria-label={label} aria-valuemin="0" aria-valuemax="100"
        aria-valuenow={unknown ? undefined : Math.round(v * 100)}>
        <div class="bar" style={{ width: (v * 100).toFixed(1) + '%' }} />
    </div>;
}

/* A modal dialog on <dialog>; Escape closes it, focus stays inside. */
export function Modal({ title, onClose, children, wide }) {
    const ref = useRef();
    useEffect(() => {
        const d = ref.current;
        if (!d.open) d.showModal();
        const cancel = (e) => {
            e.preventDefault();
            onClose();
        };
        d.addEventListener('cancel', cancel);
        return () => d.removeEventListener('cancel', cancel);
    }, []);
    return <dialog ref={ref} class={'modal' + (wide ? ' wide' : '')}
        aria-labelledby="modal-title">
        <header>
            <h2 id="modal-title">{title}</h2>
            <button type="button" class="icon" aria-label="Close"
                onClick={onClose}>×</button>
        </header>
        {children}
    </dialog>;
}

/* "Are you sure?" for destructive actions. */
export function Confirm({ title, text, action, danger, onConfirm, onClose }) {
    const a = useAction();
    return <Modal title={title} onClose={onClose}>
        <div class="modal-body"><p>{text}</p><ErrorText error={a.error} /></div>
        <footer>
            <button type="button" onClick={onClose}>Cancel</button>
            <button type="button" class={danger ? 'danger' : 'primary'}
                disabled={a.busy} onClick={async () => {
                    const r = await a.run(async () => {
                        await onConfirm();
                        return true;
                    });
                    if (r) onClose();
                }}>{action}</button>
        </footer>
    </Modal>;
}

let fieldSeq = 0;

/* A labelled control; the hint is its description, not part of its name. */
export function Field({ label, hint, children }) {
    const [id] = useState(() => 'f' + ++fieldSeq);
    const child = cloneElement(children, { id,
        'aria-describedby': hint ? id + '-hint' : undefined });
    return <div class="field">
        <label class="label" for={id}>{label}</label>
        {child}
        {hint && <span class="hint" id={id + '-hint'}>{hint}</span>}
    </div>;
}

export function Empty({ children }) {
    return <p class="empty">{children}</p>;
}

export function PageHead({ title, children, sub }) {
    return <div class="page-head">
        <div><h1>{title}</h1>{sub && <p class="sub">{sub}</p>}</div>
        <div class="actions">{children}</div>
    </div>;
}

export function Meter({ used, total, label }) {
    const f = total ? used / total : 0;
    const cls = f > 0.9 ? 'crit' : f > 0.75 ? 'warn' : '';
    return <div class={'meter ' + cls} role="meter" aria-label={label}
        aria-valuemin="0" aria-valuemax="100"
        aria-valuenow={Math.round(f * 100)}>
        <div class="bar" style={{ width: (f * 100).toFixed(1) + '%' }} />
    </div>;
}

/* A dialog holding a form: submit runs onSubmit (async), shows its error
 * in words and closes on success. */
export function FormModal({ title, onClose, onSubmit, submit, children, wide }) {
    const a = useAction();
    const go = (e) => {
        e.preventDefault();
        a.run(async () => {
            if ((await onSubmit()) !== false) onClose(true);
        });
    };
    return <Modal title={title} onClose={() => onClose()} wide={wide}>
        <form onSubmit={go}>
            <div class="modal-body">{children}<ErrorText error={a.error} /></div>
            <footer><button type="button" onClick={() => onClose()}>Cancel</button>
                <button type="submit" class="primary" disabled={a.busy}>{submit}</button></footer>
        </form>
    </Modal>;
}

/* GET a list now and on reload(); a modal's close reloads it. */
export function useList(path) {
    const [list, setList] = useState(null);
    const [err, setErr] = useState(null);
    const [modal, setModal] = useState(null);
    const reload = () => get(path).then((l) => {
        setErr(null);
        setList(l);
    }, setErr);
    useEffect(() => {
        reload();
    }, [path]);
    const close = () => {
        setModal(null);
        reload();
    };
    return { list, err, reload, modal, setModal, close };
}

/* A component whose code loads on first use (its own chunk): load()
 * returns the module, name picks the export. */
export function lazy(load, name) {
    let mod = null;
    return function Lazy(props) {
        const [m, setM] = useState(mod);
        const [err, setErr] = useState(null);
        useEffect(() => {
            if (!m) load().then((x) => {
                mod = x;
                setM(x);
            }, setErr);
        }, []);
        if (err) return <p class="error" role="alert">Could not load this screen:
            {' '}{err.message}. Reload the page to try again.</p>;
        if (!m) return <p class="loading">Loading…</p>;
        const C = m[name];
        return <C {...props} />;
    };
}
