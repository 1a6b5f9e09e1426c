/**
 * The password rules in words: what the policy from `GET /api/v1/me` asks for, and which rules a
 * 422 `password_policy` answer says were broken (its `details` list rule codes). Returns i18n keys
 * and their parameters, so the components stay free of rule logic and the texts stay in the
 * locale files.
 */
import type { PasswordPolicy, PasswordRuleCode } from '../api/types'
import { PASSWORD_RULE_CODES } from '../api/types'

/** One line to show: an i18n key and its named parameters. */
export interface PolicyLine {
  key: string
  params: Record<string, number>
}

/** The policy as a list of requirements, most basic first. */
export function describePolicy(policy: PasswordPolicy): PolicyLine[] {
  const lines: PolicyLine[] = [{ key: 'password.policy.minLength', params: { n: policy.min_length } }]
  if (policy.classes_required > 1) {
    lines.push({ key: 'password.policy.classes', params: { n: policy.classes_required } })
  }
  if (policy.rejects_common !== false) {
    lines.push({ key: 'password.policy.notCommon', params: {} })
  }
  lines.push({ key: 'password.policy.notUsername', params: {} })
  if (policy.history > 0) {
    lines.push({ key: 'password.policy.history', params: { n: policy.history } })
  }
  if (typeof policy.expiry_days === 'number' && policy.expiry_days > 0) {
    lines.push({ key: 'password.policy.expiry', params: { n: policy.expiry_days } })
  }
  return lines
}

function isRuleCode(value: unknown): value is PasswordRuleCode {
  return typeof value === 'string' && (PASSWORD_RULE_CODES as readonly string[]).includes(value)
}

/**
 * The broken rules of a 422 `password_policy` body's `details`: known codes in the order given,
 * each once. An unknown code (a newer server) becomes `unknown` so the user still learns that a
 * rule failed. Accepts the documented list of strings, and also `{rules: [...]}` or a list of
 * `{code}` objects, which costs nothing and survives a change of shape.
 */
export function brokenRules(details: unknown): Array<PasswordRuleCode | 'unknown'> {
  let items: unknown[] = []
  if (Array.isArray(details)) items = details
  else if (typeof details === 'object' && details !== null) {
    const rules = (details as { rules?: unknown }).rules
    if (Array.isArray(rules)) items = rules
  }
  const out: Array<PasswordRuleCode | 'unknown'> = []
  for (const item of items) {
    const code =
      typeof item === 'object' && item !== null ? (item as { code?: unknown }).code : item
    const rule = isRuleCode(code) ? code : 'unknown'
    if (!out.includes(rule)) out.push(rule)
  }
  return out
}

/** The i18n key of a broken rule. */
export function ruleMessageKey(rule: PasswordRuleCode | 'unknown'): string {
  return `password.rules.${rule}`
}

/** Characters as a person counts them (code points, so 密码 is two). */
export function passwordLength(password: string): number {
  return [...password].length
}

/**
 * What can be told before asking the server: only the length (the server alone knows the
 * common-password list, the history and how it counts character classes).
 */
export function checkLocally(password: string, policy: PasswordPolicy | null): PasswordRuleCode[] {
  if (policy !== null && passwordLength(password) < policy.min_length) return ['too_short']
  return []
}
