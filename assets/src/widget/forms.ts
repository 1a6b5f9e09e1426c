/**
 * The chat window's two forms: the pre-chat form (what the inbox asks an anonymous visitor
 * before the first message) and the leave-a-message form outside business hours (a message and
 * a phone number or email address to be answered at).
 */
import { el } from './dom'
import type { WidgetKey } from './i18n'

export type FieldMode = 'off' | 'optional' | 'required'
export interface PrechatConfig {
  name: FieldMode
  phone: FieldMode
  email: FieldMode
}
export type FormKind = 'prechat' | 'leave'
export type Field = 'name' | 'phone' | 'email'
export interface FormValues {
  name: string
  phone: string
  email: string
  body: string
}

const FIELDS: Field[] = ['name', 'phone', 'email']

/** The fields a form shows, and whether each is required. */
export function formFields(kind: FormKind, prechat: PrechatConfig): { field: Field; required: boolean }[] {
  if (kind === 'leave') return FIELDS.map((field) => ({ field, required: false }))
  return FIELDS.filter((f) => prechat[f] !== 'off').map((field) => ({ field, required: prechat[field] === 'required' }))
}

/** Whether the inbox asks anything before the first message. */
export function asksPrechat(prechat: PrechatConfig): boolean {
  return FIELDS.some((f) => prechat[f] !== 'off')
}

/** Why the form cannot be sent yet (the first problem), or null. */
export function formProblem(kind: FormKind, prechat: PrechatConfig, v: FormValues): { key: WidgetKey; field?: Field | 'body' } | null {
  for (const { field, required } of formFields(kind, prechat)) {
    if (required && v[field].trim() === '') return { key: 'formRequired', field }
  }
  if (kind === 'leave') {
    if (v.phone.trim() === '' && v.email.trim() === '') return { key: 'leaveHint' }
    if (v.body.trim() === '') return { key: 'formRequired', field: 'body' }
  }
  return null
}

/**
 * Which form the window shows now, if any: leave-a-message while closed and the visitor has
 * nothing open (until they left one); the pre-chat form before an anonymous visitor's first
 * message (until they filled it in).
 */
export function formToShow(s: {
  open: boolean
  leaveMessage: boolean
  prechat: PrechatConfig
  identified: boolean
  hasMessages: boolean
  conversationOpen: boolean
  prechatDone: boolean
  left: boolean
}): FormKind | null {
  if (!s.open && s.leaveMessage && !s.conversationOpen && !s.left) return 'leave'
  if (asksPrechat(s.prechat) && !s.identified && !s.hasMessages && !s.prechatDone) return 'prechat'
  return null
}

export interface BuiltForm {
  form: HTMLFormElement
  values(): FormValues
  /** Show a problem (null: none), and disable the button while sending. */
  say(text: string | null): void
  busy(on: boolean): void
  focus(field?: Field | 'body'): void
}

/** The form's DOM; `submit` gets the values once the visitor sends it. */
export function buildForm(
  kind: FormKind,
  prechat: PrechatConfig,
  say: (key: WidgetKey, params?: Record<string, string | number>) => string,
  submit: () => void,
): BuiltForm {
  const form = el('form', `visitor-form ${kind}`)
  form.noValidate = true
  form.dataset.testid = `${kind}-form`
  form.append(el('p', 'form-title', say(kind === 'leave' ? 'leaveTitle' : 'prechatTitle')))
  const inputs = new Map<Field, HTMLInputElement>()
  for (const { field, required } of formFields(kind, prechat)) {
    const label = el('label', 'form-field')
    const text = el('span', 'form-label', say(field))
    if (!required) text.append(el('span', 'form-optional', say('optional')))
    const input = el('input', 'form-input')
    input.name = field
    input.type = field === 'phone' ? 'tel' : field === 'email' ? 'email' : 'text'
    input.autocomplete = field === 'phone' ? 'tel' : field === 'email' ? 'email' : 'name'
    input.maxLength = field === 'name' ? 100 : 200
    input.required = required
    label.append(text, input)
    form.append(label)
    inputs.set(field, input)
  }
  let body: HTMLTextAreaElement | null = null
  if (kind === 'leave') {
    form.append(el('p', 'form-hint', say('leaveHint')))
    const label = el('label', 'form-field')
    body = el('textarea', 'form-input form-body')
    body.name = 'body'
    body.rows = 4
    body.maxLength = 4000
    body.required = true
    label.append(el('span', 'form-label', say('message')), body)
    form.append(label)
  }
  const problem = el('p', 'form-error')
  problem.setAttribute('role', 'alert')
  const button = el('button', 'form-submit', say(kind === 'leave' ? 'leaveSubmit' : 'start'))
  button.type = 'submit'
  form.append(problem, button)
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    submit()
  })
  return {
    form,
    values: () => ({
      name: inputs.get('name')?.value ?? '',
      phone: inputs.get('phone')?.value ?? '',
      email: inputs.get('email')?.value ?? '',
      body: body?.value ?? '',
    }),
    say: (text) => {
      problem.textContent = text ?? ''
    },
    busy: (on) => {
      button.disabled = on
    },
    focus: (field) => {
      const target = field === undefined || field === 'body' ? (field === 'body' ? body : (inputs.values().next().value ?? body)) : (inputs.get(field) ?? body)
      target?.focus()
    },
  }
}
