// LaunchBriefForm: the brief form collect_launch_brief shows (tools/launch_brief.py).
// The tool sends {title, description, fields: [{name, label, type, required}], submit_label};
// the answer is {status: "submitted", values: {<field name>: value}}.
import React, { useState } from 'react';

const box = {
  padding: '16px', borderRadius: '12px', maxWidth: '480px',
  background: 'var(--color-surface, #0f1724)', border: '1px solid var(--color-border-subtle, #334155)',
  color: 'var(--color-text-primary, #e6eef8)',
};
const input = {
  width: '100%', padding: '8px', borderRadius: '6px', marginTop: '4px',
  border: '1px solid var(--color-border-subtle, #334155)', background: 'transparent', color: 'inherit',
};

export default function LaunchBriefForm({ payload = {}, onResponse }) {
  const fields = Array.isArray(payload.fields) ? payload.fields : [];
  const [values, setValues] = useState(() => Object.fromEntries(fields.map((field) => [field.name, ''])));
  const [sent, setSent] = useState(false);
  const missing = fields.filter((field) => field.required && String(values[field.name] ?? '').trim() === '');

  const submit = async (event) => {
    event.preventDefault();
    if (missing.length || sent) return;
    setSent(true);
    await onResponse?.({ status: 'submitted', values });
  };

  return (
    <form style={box} onSubmit={submit} aria-label={payload.title || 'Launch brief'} data-component="LaunchBriefForm">
      <h3 style={{ margin: '0 0 4px' }}>{payload.title || 'Launch brief'}</h3>
      {payload.description ? <p style={{ margin: '0 0 12px', opacity: 0.8 }}>{payload.description}</p> : null}
      {fields.map((field) => (
        <label key={field.name} style={{ display: 'block', marginBottom: '10px' }}>
          {field.label}{field.required ? ' *' : ''}
          <input
            style={input}
            name={field.name}
            type={field.type === 'number' ? 'number' : field.type === 'date' ? 'date' : 'text'}
            required={!!field.required}
            disabled={sent}
            value={values[field.name]}
            onChange={(event) => setValues({ ...values, [field.name]: event.target.value })}
          />
        </label>
      ))}
      <button type="submit" disabled={sent || missing.length > 0} style={{ padding: '8px 16px', borderRadius: '6px' }}>
        {sent ? 'Sent' : (payload.submit_label || 'Send')}
      </button>
    </form>
  );
}
