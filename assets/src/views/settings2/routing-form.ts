/**
 * The routing form shared by inboxes and teams, and its mapping to and from `settings.routing`
 * (`RoutingSettings` of `src/engine/routing/policy.rs`, parsed with `deny_unknown_fields`).
 *
 * - `mode`: `round_robin` (the agent assigned longest ago) or `least_load` (the smallest share of
 *   capacity in use).
 * - `sticky`: a returning contact goes to the agent who last handled them, when eligible.
 * - skill rules: a new conversation requires an agent holding the rule's skill (skills compare
 *   exactly, case included) when any of the rule's conditions holds — a keyword occurs in the
 *   first message, the page contains one of `pages`, the language or the region is listed (see
 *   `SkillRule`); with the fallback on, after `skill_fallback_after_secs` any agent may take it
 *   (`null`: skills always required).
 * - overflow: a conversation no agent here could take within `overflow_after_secs` moves to the
 *   overflow team (`null` wait: as soon as no agent is free).
 *
 * The checks mirror `RoutingSettings::validate` so problems show next to the field before saving.
 */
import type { Id } from '../../api/types'
import { MAX_SKILL_LENGTH } from './agents'
import {
  ROUTING_MODES,
  type RoutingMode,
  type RoutingSettings,
  type SkillRule,
} from '../../api/settings2-types'

/** Longest configurable wait before overflow or skill fallback (server: 7 days). */
export const MAX_ROUTING_SECS = 7 * 86_400
/** Most skill rules in one settings object (server). */
export const MAX_SKILL_RULES = 200
/** Most entries in one condition list of a rule: keywords, pages, languages, regions (server `MAX_KEYWORDS`). */
export const MAX_KEYWORDS = 100
/** Longest entry of a condition list, in characters (server `MAX_NAME_CHARS`). */
export const MAX_KEYWORD_CHARS = 100
/** Longest skill name, in characters (server `MAX_SKILL_CHARS`: the same limit as an agent's skills). */
export const MAX_SKILL_CHARS = MAX_SKILL_LENGTH
/** The waits a switched-on option starts with. */
export const DEFAULT_OVERFLOW_AFTER_SECS = 300
export const DEFAULT_SKILL_FALLBACK_SECS = 120

/** The condition lists of a skill rule, in the editor's order. */
export const RULE_CONDITIONS = ['keywords', 'pages', 'languages', 'regions'] as const
export type RuleCondition = (typeof RULE_CONDITIONS)[number]

export interface SkillRuleRow {
  keywords: string[]
  pages: string[]
  languages: string[]
  regions: string[]
  skill: string
}

/** A rule row with nothing entered (the editor's "add rule"). */
export function emptyRule(): SkillRuleRow {
  return { keywords: [], pages: [], languages: [], regions: [], skill: '' }
}

export interface RoutingForm {
  mode: RoutingMode
  sticky: boolean
  skills: SkillRuleRow[]
  overflowEnabled: boolean
  overflowTeamId: Id | null
  /** 0: overflow as soon as no agent is free. */
  overflowAfterSecs: number
  skillFallbackEnabled: boolean
  skillFallbackSecs: number
}

/** Characters as the server counts them (code points, not UTF-16 units). */
export function charCount(text: string): number {
  return [...text].length
}

function isMode(value: unknown): value is RoutingMode {
  return typeof value === 'string' && (ROUTING_MODES as readonly string[]).includes(value)
}

function seconds(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((k): k is string => typeof k === 'string') : []
}

function rule(value: unknown): SkillRuleRow | null {
  if (typeof value !== 'object' || value === null) return null
  const v = value as Partial<Record<keyof SkillRule, unknown>>
  return {
    keywords: strings(v.keywords),
    pages: strings(v.pages),
    languages: strings(v.languages),
    regions: strings(v.regions),
    skill: typeof v.skill === 'string' ? v.skill : '',
  }
}

/** The form for stored routing settings; missing values are the server's defaults. */
export function routingToForm(json: Partial<RoutingSettings> | null | undefined): RoutingForm {
  const r: Partial<RoutingSettings> = typeof json === 'object' && json !== null ? json : {}
  const overflowTeam = typeof r.overflow_team_id === 'number' ? r.overflow_team_id : null
  const overflowAfter = seconds(r.overflow_after_secs)
  const fallback = seconds(r.skill_fallback_after_secs)
  return {
    mode: isMode(r.mode) ? r.mode : 'round_robin',
    sticky: r.sticky === true,
    skills: Array.isArray(r.skills)
      ? r.skills.map(rule).filter((x): x is SkillRuleRow => x !== null)
      : [],
    overflowEnabled: overflowTeam !== null,
    overflowTeamId: overflowTeam,
    overflowAfterSecs: overflowAfter ?? (overflowTeam !== null ? 0 : DEFAULT_OVERFLOW_AFTER_SECS),
    skillFallbackEnabled: fallback !== null,
    skillFallbackSecs: fallback ?? DEFAULT_SKILL_FALLBACK_SECS,
  }
}

/** Trimmed keywords without empties or repeats (case-insensitive, as matching is), in typed order. */
export function normaliseKeywords(keywords: readonly string[]): string[] {
  const seen = new Set<string>()
  const out: string[] = []
  for (const raw of keywords) {
    const k = raw.trim()
    const folded = k.toLowerCase()
    if (k.length === 0 || seen.has(folded)) continue
    seen.add(folded)
    out.push(k)
  }
  return out
}

/**
 * Language tags as typed, tidied: trimmed, `_` written as the `-` of BCP 47 (`zh_HK` would never
 * match the `zh-HK` a channel sends), without empties or repeats (ignoring case, as matching does).
 */
export function normaliseLanguages(tags: readonly string[]): string[] {
  return normaliseKeywords(tags.map((tag) => tag.trim().replace(/_/g, '-')))
}

/** A condition list of a rule, tidied as {@link formToRouting} sends it. */
export function normaliseCondition(condition: RuleCondition, entries: readonly string[]): string[] {
  return condition === 'languages' ? normaliseLanguages(entries) : normaliseKeywords(entries)
}

/** The rule as sent: every list tidied, the skill trimmed. */
function tidyRule(r: SkillRuleRow): SkillRule {
  return {
    keywords: normaliseCondition('keywords', r.keywords),
    pages: normaliseCondition('pages', r.pages),
    languages: normaliseCondition('languages', r.languages),
    regions: normaliseCondition('regions', r.regions),
    skill: r.skill.trim(),
  }
}

function hasCondition(r: SkillRule): boolean {
  return RULE_CONDITIONS.some((c) => r[c].length > 0)
}

/** Whether anything was entered in the row (an untouched row is ignored, not an error). */
function started(r: SkillRule): boolean {
  return hasCondition(r) || r.skill.length > 0
}

/**
 * `settings.routing` for the form: exactly the server's keys. Rules with no condition and no
 * skill are dropped (empty rows left in the editor); switched-off options are sent as `null`.
 */
export function formToRouting(form: RoutingForm): RoutingSettings {
  const skills: SkillRule[] = form.skills.map(tidyRule).filter(started)
  const overflow = form.overflowEnabled && form.overflowTeamId !== null
  return {
    mode: form.mode,
    sticky: form.sticky,
    skills,
    overflow_team_id: overflow ? form.overflowTeamId : null,
    overflow_after_secs: overflow ? form.overflowAfterSecs : null,
    skill_fallback_after_secs: form.skillFallbackEnabled ? form.skillFallbackSecs : null,
  }
}

export type RoutingProblemCode =
  | 'condition_required'
  | 'skill_required'
  | 'keyword_too_long'
  | 'page_too_long'
  | 'language_too_long'
  | 'region_too_long'
  | 'skill_too_long'
  | 'too_many_keywords'
  | 'too_many_pages'
  | 'too_many_languages'
  | 'too_many_regions'
  | 'too_many_rules'
  | 'overflow_team_required'
  | 'overflow_self'
  | 'overflow_team_missing'
  | 'secs_range'

export interface RoutingProblem {
  code: RoutingProblemCode
  field: 'skills' | 'overflow_team_id' | 'overflow_after_secs' | 'skill_fallback_after_secs'
  /** The rule's row for `skills` (absent: the list as a whole). */
  index?: number
}

const TOO_MANY: Record<RuleCondition, RoutingProblemCode> = {
  keywords: 'too_many_keywords',
  pages: 'too_many_pages',
  languages: 'too_many_languages',
  regions: 'too_many_regions',
}

const TOO_LONG: Record<RuleCondition, RoutingProblemCode> = {
  keywords: 'keyword_too_long',
  pages: 'page_too_long',
  languages: 'language_too_long',
  regions: 'region_too_long',
}

export function secsOk(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= MAX_ROUTING_SECS
}

/**
 * Every problem of the routing form, as `RoutingSettings::validate` and the settings handlers
 * check them. `ownTeamId` is the team being edited: a team cannot overflow into itself.
 * `knownTeamIds` lists every team that exists when the page could load them (the overflow team
 * must be one); `null` when it could not, and only the server checks.
 */
export function validateRouting(
  form: RoutingForm,
  ownTeamId: Id | null = null,
  knownTeamIds: readonly Id[] | null = null,
): RoutingProblem[] {
  const problems: RoutingProblem[] = []
  const rules = form.skills.map(tidyRule)
  if (rules.filter(started).length > MAX_SKILL_RULES) {
    problems.push({ code: 'too_many_rules', field: 'skills' })
  }
  rules.forEach((r, index) => {
    if (!started(r)) return
    if (!hasCondition(r)) problems.push({ code: 'condition_required', field: 'skills', index })
    if (r.skill.length === 0) problems.push({ code: 'skill_required', field: 'skills', index })
    for (const condition of RULE_CONDITIONS) {
      const entries = r[condition]
      if (entries.length > MAX_KEYWORDS) problems.push({ code: TOO_MANY[condition], field: 'skills', index })
      if (entries.some((k) => charCount(k) > MAX_KEYWORD_CHARS)) {
        problems.push({ code: TOO_LONG[condition], field: 'skills', index })
      }
    }
    if (charCount(r.skill) > MAX_SKILL_CHARS) {
      problems.push({ code: 'skill_too_long', field: 'skills', index })
    }
  })
  if (form.overflowEnabled) {
    if (form.overflowTeamId === null) {
      problems.push({ code: 'overflow_team_required', field: 'overflow_team_id' })
    } else if (ownTeamId !== null && form.overflowTeamId === ownTeamId) {
      problems.push({ code: 'overflow_self', field: 'overflow_team_id' })
    } else if (knownTeamIds !== null && !knownTeamIds.includes(form.overflowTeamId)) {
      problems.push({ code: 'overflow_team_missing', field: 'overflow_team_id' })
    }
    if (!secsOk(form.overflowAfterSecs)) {
      problems.push({ code: 'secs_range', field: 'overflow_after_secs' })
    }
  }
  if (form.skillFallbackEnabled && !secsOk(form.skillFallbackSecs)) {
    problems.push({ code: 'secs_range', field: 'skill_fallback_after_secs' })
  }
  return problems
}

/** Every skill named by the rules, for suggestions. */
export function skillsOfRules(rules: readonly SkillRuleRow[]): string[] {
  return [...new Set(rules.map((r) => r.skill.trim()).filter((s) => s.length > 0))].sort()
}
