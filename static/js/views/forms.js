// Form pieces shared by the screens: labelled fields and an error summary.
import { html, useRef } from '../lib.js';

let counter = 0;

export function useId(prefix) {
  const ref = useRef(null);
  if (ref.current === null) {
    counter += 1;
    ref.current = `${prefix}-${counter}`;
  }
  return ref.current;
}

export function Field({
  label, name, type = 'text', value, onInput, autocomplete, required = true, hint,
  invalid = false, minLength, maxLength, autofocus = false, inputRef, min, max,
}) {
  const id = useId(name);
  const hintId = hint ? id + '-hint' : undefined;
  return html`
    <div class="field">
      <label for=${id}>${label}</label>
      <input id=${id} name=${name} type=${type} value=${value}
        onInput=${(e) => onInput(e.currentTarget.value)}
        autocomplete=${autocomplete} required=${required} minLength=${minLength}
        maxLength=${maxLength} min=${min} max=${max} aria-invalid=${invalid ? 'true' : undefined}
        aria-describedby=${hintId} autofocus=${autofocus} ref=${inputRef} />
      ${hint && html`<p class="hint" id=${hintId}>${hint}</p>`}
    </div>`;
}

export function ErrorText({ error }) {
  if (!error) return null;
  return html`<p class="error" role="alert">${error}</p>`;
}

/** The field an API error points at ("owner.email" -> "email"). */
export function errorField(error) {
  if (!error || !error.field) return '';
  return String(error.field).split('.').pop();
}
