// settings.jsx: host settings: the time zone (the default for backup
// schedules) and the HTTPS certificate, replaced without a restart.
import { useEffect, useState } from 'preact/hooks';
import { api, can, get, patch } from './api.js';
import { time } from './format.js';
import { ErrorText, Field, PageHead, useAction } from './ui.jsx';

function zones() {
    try {
        return Intl.supportedValuesOf('timeZone');
    } catch (e) {
        return ['UTC'];
    }
}

function TimeZone({ settings, onSaved }) {
    const [tz, setTz] = useState(settings.timezone);
    const [saved, setSaved] = useState(false);
    const a = useAction();
    const admin = can('admin');
    const list = zones();
    if (!list.includes(settings.timezone)) list.unshift(settings.timezone);
    const save = (e) => {
        e.preventDefault();
        setSaved(false);
        a.run(async () => {
            onSaved(await patch('/settings', { timezone: tz }));
            setSaved(true);
        });
    };
    return <form class="card form-grid" onSubmit={save} aria-label="Time zone settings">
        <fieldset disabled={!admin}>
            <legend>Clock</legend>
            <Field label="Time zone" hint="Backup schedules use it unless a job names its own.">
                <select value={tz} onChange={(e) => setTz(e.target.value)}>
                    {list.map((z) => <option key={z} value={z}>{z}</option>)}
                </select></Field>
        </fieldset>
        {admin && <div class="form-foot">
            <ErrorText error={a.error} />
            {saved && <span role="status" class="ok">Saved.</span>}
            <button type="submit" class="primary" disabled={a.busy}>Save</button>
        </div>}
    </form>;
}

function readFile(input) {
    const f = input.files && input.files[0];
    return f ? f.text() : Promise.resolve('');
}

function Certificate({ tls, onSaved }) {
    const [saved, setSaved] = useState(false);
    const a = useAction();
    const admin = can('admin');
    const upload = (e) => {
        e.preventDefault();
        const form = e.target;
        setSaved(false);
        a.run(async () => {
            const [certificate, key] = await Promise.all([
                readFile(form.elements.certificate), readFile(form.elements.private_key)]);
            onSaved(await api('PUT', '/settings/tls', { certificate, private_key: key }));
            form.reset();
            setSaved(true);
        });
    };
    return <section class="card" aria-labelledby="s-tls">
        <h2 id="s-tls">HTTPS certificate</h2>
        {tls && <dl class="kv">
            <dt>Subject</dt><dd>{tls.subject}</dd>
            <dt>Issuer</dt><dd>{tls.issuer}{tls.self_signed ? ' (self-signed)' : ''}</dd>
            <dt>Names</dt><dd>{tls.san || 'none'}</dd>
            <dt>Valid</dt><dd>{time(tls.not_before)} to {time(tls.not_after)}</dd>
            <dt>SHA-256</dt><dd class="mono break">{tls.sha256_fingerprint}</dd>
        </dl>}
        {admin && tls && !tls.replaceable && <p class="notice">This certificate is
            set in the daemon's configuration (tls-cert, tls-key); change it there.</p>}
        {admin && tls && tls.replaceable && <form class="form-grid" onSubmit={upload}
            aria-label="Replace the certificate">
            <Field label="Certificate (PEM, chain after it)">
                <input type="file" name="certificate" required accept=".pem,.crt,.cer" /></Field>
            <Field label="Private key (PEM, unencrypted)">
                <input type="file" name="private_key" required accept=".pem,.key" /></Field>
            <div class="form-foot">
                <ErrorText error={a.error} />
                {saved && <span role="status" class="ok">Replaced: new connections use it.</span>}
                <button type="submit" class="primary" disabled={a.busy}>Replace certificate</button>
            </div>
        </form>}
    </section>;
}

export function Settings() {
    const [s, setS] = useState(null);
    const a = useAction();
    useEffect(() => {
        get('/settings').then(setS, a.setError);
    }, []);
    return <div>
        <PageHead title="Settings" sub="This host's time zone and HTTPS certificate." />
        <ErrorText error={a.error} />
        {s && <TimeZone settings={s} onSaved={setS} />}
        {s && <Certificate tls={s.tls} onSaved={(tls) => setS({ ...s, tls })} />}
    </div>;
}
