// The routing form ⇄ settings.routing (exactly the server's keys), and its checks.
import { describe, expect, it } from 'vitest'
import type { RoutingSettings } from '../../api/settings2-types'
import {
  DEFAULT_OVERFLOW_AFTER_SECS,
  DEFAULT_SKILL_FALLBACK_SECS,
  MAX_ROUTING_SECS,
  MAX_SKILL_CHARS,
  MAX_KEYWORD_CHARS,
  MAX_KEYWORDS,
  RULE_CONDITIONS,
  emptyRule,
  formToRouting,
  normaliseKeywords,
  normaliseLanguages,
  routingToForm,
  skillsOfRules,
  validateRouting,
  type RoutingForm,
  type SkillRuleRow,
} from './routing-form'
import { MAX_SKILL_LENGTH } from './agents'

// A rule row with only the given parts.
const row = (part: Partial<SkillRuleRow>): SkillRuleRow => ({ ...emptyRule(), ...part })

// The documented example of `RoutingSettings` (src/engine/routing/policy.rs), with a rule of
// each kind (docs/workspace-api.md), every key present as `GET` answers it.
const serverExample: RoutingSettings = {
  mode: 'round_robin',
  sticky: true,
  skills: [
    { keywords: ['贷款'], pages: [], languages: [], regions: [], skill: 'loans' },
    { keywords: [], pages: ['/credit-card/'], languages: ['en'], regions: ['HK'], skill: 'cards-en' },
  ],
  overflow_team_id: null,
  overflow_after_secs: 300,
  skill_fallback_after_secs: 120,
}

// What the server answers for `{}`: its defaults, every key present.
const serverDefaults: RoutingSettings = {
  mode: 'round_robin',
  sticky: false,
  skills: [],
  overflow_team_id: null,
  overflow_after_secs: null,
  skill_fallback_after_secs: null,
}

const SERVER_KEYS = [
  'mode',
  'sticky',
  'skills',
  'overflow_team_id',
  'overflow_after_secs',
  'skill_fallback_after_secs',
]

describe('routing ⇄ form', () => {
  it('reads the server defaults and writes them back unchanged', () => {
    const form = routingToForm(serverDefaults)
    expect(form).toMatchObject({
      mode: 'round_robin',
      sticky: false,
      overflowEnabled: false,
      skillFallbackEnabled: false,
    })
    expect(formToRouting(form)).toEqual(serverDefaults)
  })

  it('sends exactly the keys the server accepts', () => {
    const sent = formToRouting(routingToForm(serverExample))
    expect(Object.keys(sent).sort()).toEqual([...SERVER_KEYS].sort())
    for (const rule of sent.skills) {
      expect(Object.keys(rule).sort()).toEqual(['keywords', 'languages', 'pages', 'regions', 'skill'])
    }
    const withStranger = { ...serverExample, future_option: 7 } as Partial<RoutingSettings>
    expect(Object.keys(formToRouting(routingToForm(withStranger)))).not.toContain('future_option')
  })

  it('keeps the skill fallback on, and sends the overflow wait only with an overflow team', () => {
    const form = routingToForm(serverExample)
    expect(form.skillFallbackEnabled).toBe(true)
    expect(form.skillFallbackSecs).toBe(120)
    expect(formToRouting(form)).toEqual({ ...serverExample, overflow_after_secs: null })
  })

  it('gives the server defaults for empty or broken JSON', () => {
    for (const json of [null, undefined, {}, { mode: 'random', sticky: 'yes', skills: 'x' }]) {
      const form = routingToForm(json as Partial<RoutingSettings>)
      expect(form.mode).toBe('round_robin')
      expect(form.sticky).toBe(false)
      expect(form.skills).toEqual([])
      expect(form.overflowAfterSecs).toBe(DEFAULT_OVERFLOW_AFTER_SECS)
      expect(form.skillFallbackEnabled).toBe(false)
      expect(form.skillFallbackSecs).toBe(DEFAULT_SKILL_FALLBACK_SECS)
    }
  })

  it('maps overflow on and off; an overflow without a wait overflows at once', () => {
    const form = routingToForm({ ...serverExample, overflow_team_id: 4, overflow_after_secs: 60 })
    expect(form.overflowEnabled).toBe(true)
    expect(form.overflowTeamId).toBe(4)
    expect(formToRouting(form)).toMatchObject({ overflow_team_id: 4, overflow_after_secs: 60 })
    expect(formToRouting({ ...form, overflowEnabled: false })).toMatchObject({
      overflow_team_id: null,
      overflow_after_secs: null,
    })
    const immediate = routingToForm({ ...serverExample, overflow_team_id: 4, overflow_after_secs: null })
    expect(immediate.overflowAfterSecs).toBe(0)
    expect(formToRouting({ ...form, skillFallbackEnabled: false }).skill_fallback_after_secs).toBeNull()
  })

  it('reads rules stored before pages, languages and regions existed, and sends every list', () => {
    const old = { ...serverExample, skills: [{ keywords: ['贷款'], skill: 'loans' }] } as unknown as RoutingSettings
    const form = routingToForm(old)
    expect(form.skills).toEqual([row({ keywords: ['贷款'], skill: 'loans' })])
    expect(formToRouting(form).skills).toEqual([
      { keywords: ['贷款'], pages: [], languages: [], regions: [], skill: 'loans' },
    ])
    const broken = { ...serverExample, skills: [{ keywords: ['a', 3], pages: 'x', languages: [null, 'en'], skill: 's' }] }
    expect(routingToForm(broken as unknown as RoutingSettings).skills).toEqual([
      row({ keywords: ['a'], languages: ['en'], skill: 's' }),
    ])
  })

  it('drops empty rule rows and tidies every list and the skill', () => {
    const form: RoutingForm = {
      ...routingToForm(serverExample),
      skills: [
        row({ keywords: [' 贷款 ', '贷款', '', '房贷'], skill: ' loans ' }),
        row({ keywords: [' '], pages: [' '], skill: '  ' }),
        row({
          pages: [' /Loans/ ', '/loans/'],
          languages: ['zh_HK', 'ZH-hk', ' en '],
          regions: ['HK', 'hk', '广东'],
          skill: 'cards',
        }),
      ],
    }
    expect(formToRouting(form).skills).toEqual([
      { keywords: ['贷款', '房贷'], pages: [], languages: [], regions: [], skill: 'loans' },
      { keywords: [], pages: ['/Loans/'], languages: ['zh-HK', 'en'], regions: ['HK', '广东'], skill: 'cards' },
    ])
  })

  it('normalises keywords case-insensitively in typed order', () => {
    expect(normaliseKeywords(['VIP', 'vip', ' card ', ''])).toEqual(['VIP', 'card'])
    expect(normaliseLanguages(['en_GB', 'en-gb', ' zh ', ''])).toEqual(['en-GB', 'zh'])
    expect(
      skillsOfRules([row({ skill: 'b' }), row({ skill: 'a' }), row({ skill: 'b' })]),
    ).toEqual(['a', 'b'])
  })
})

describe('validateRouting (mirrors RoutingSettings::validate)', () => {
  const base = routingToForm(serverExample)

  it('accepts the example and the defaults', () => {
    expect(validateRouting(base)).toEqual([])
    expect(validateRouting(routingToForm({}))).toEqual([])
  })

  it('needs a condition of any kind and a skill in a started rule', () => {
    const form = {
      ...base,
      skills: [
        row({ keywords: ['a'] }),
        row({ skill: 'x' }),
        row({}),
        row({ keywords: [' '], pages: [''], skill: 'y' }),
      ],
    }
    expect(validateRouting(form)).toEqual([
      { code: 'skill_required', field: 'skills', index: 0 },
      { code: 'condition_required', field: 'skills', index: 1 },
      { code: 'condition_required', field: 'skills', index: 3 },
    ])
    // A page, a language or a region alone is a condition.
    for (const only of [{ pages: ['/loans/'] }, { languages: ['en'] }, { regions: ['HK'] }]) {
      expect(validateRouting({ ...base, skills: [row({ ...only, skill: 's' })] })).toEqual([])
    }
  })

  it('takes keywords of 100 and skills of 40 characters, counted as the server does', () => {
    const ok = { ...base, skills: [row({ keywords: ['贷'.repeat(100)], skill: '信'.repeat(40) })] }
    expect(validateRouting(ok)).toEqual([])
    expect(MAX_SKILL_CHARS).toBe(MAX_SKILL_LENGTH)
    const longKeyword = { ...base, skills: [row({ keywords: ['k'.repeat(101)], skill: 's' })] }
    expect(validateRouting(longKeyword)).toEqual([{ code: 'keyword_too_long', field: 'skills', index: 0 }])
    const longSkill = { ...base, skills: [row({ keywords: ['k'], skill: '信'.repeat(41) })] }
    expect(validateRouting(longSkill)).toEqual([{ code: 'skill_too_long', field: 'skills', index: 0 }])
    const both = { ...base, skills: [row({ keywords: ['k'.repeat(101)], skill: 's'.repeat(41) })] }
    expect(validateRouting(both).map((p) => p.code)).toEqual(['keyword_too_long', 'skill_too_long'])
    const emoji = { ...base, skills: [row({ keywords: ['😀'.repeat(100)], skill: '😀'.repeat(40) })] }
    expect(validateRouting(emoji)).toEqual([])
  })

  it('limits keywords per rule and rules per settings', () => {
    const many = Array.from({ length: 101 }, (_, i) => `k${i}`)
    expect(validateRouting({ ...base, skills: [row({ keywords: many, skill: 's' })] })).toEqual([
      { code: 'too_many_keywords', field: 'skills', index: 0 },
    ])
    const rules = Array.from({ length: 201 }, (_, i) => row({ keywords: [`k${i}`], skill: 's' }))
    expect(validateRouting({ ...base, skills: rules })).toEqual([{ code: 'too_many_rules', field: 'skills' }])
  })

  it('limits pages, languages and regions as keywords: 100 entries of 1 to 100 characters', () => {
    const codes = {
      pages: ['too_many_pages', 'page_too_long'],
      languages: ['too_many_languages', 'language_too_long'],
      regions: ['too_many_regions', 'region_too_long'],
    }
    for (const [condition, [tooMany, tooLong]] of Object.entries(codes)) {
      const full = Array.from({ length: MAX_KEYWORDS }, (_, i) => `${'区'.repeat(MAX_KEYWORD_CHARS - 3)}${i}`)
      expect(validateRouting({ ...base, skills: [row({ [condition]: full, skill: 's' })] })).toEqual([])
      const many = [...full, 'one more']
      expect(validateRouting({ ...base, skills: [row({ [condition]: many, skill: 's' })] })).toEqual([
        { code: tooMany, field: 'skills', index: 0 },
      ])
      const long = ['x'.repeat(MAX_KEYWORD_CHARS + 1)]
      expect(validateRouting({ ...base, skills: [row({ [condition]: long, skill: 's' })] })).toEqual([
        { code: tooLong, field: 'skills', index: 0 },
      ])
    }
    expect(RULE_CONDITIONS).toEqual(['keywords', 'pages', 'languages', 'regions'])
  })

  it('needs an overflow team other than the team itself, and waits within 7 days', () => {
    const on = { ...base, overflowEnabled: true, overflowTeamId: null }
    expect(validateRouting(on)).toEqual([{ code: 'overflow_team_required', field: 'overflow_team_id' }])
    expect(validateRouting({ ...on, overflowTeamId: 3 }, 3)).toEqual([
      { code: 'overflow_self', field: 'overflow_team_id' },
    ])
    expect(validateRouting({ ...on, overflowTeamId: 4, overflowAfterSecs: MAX_ROUTING_SECS }, 3)).toEqual([])
    expect(validateRouting({ ...on, overflowTeamId: 4, overflowAfterSecs: MAX_ROUTING_SECS + 1 }, 3)).toEqual([
      { code: 'secs_range', field: 'overflow_after_secs' },
    ])
    // The overflow team must exist (when the page knows every team); not checked while off.
    expect(validateRouting({ ...on, overflowTeamId: 4 }, 3, [3, 4])).toEqual([])
    expect(validateRouting({ ...on, overflowTeamId: 5 }, 3, [3, 4])).toEqual([
      { code: 'overflow_team_missing', field: 'overflow_team_id' },
    ])
    expect(validateRouting({ ...on, overflowTeamId: 3 }, 3, [3, 4])).toEqual([
      { code: 'overflow_self', field: 'overflow_team_id' },
    ])
    expect(validateRouting({ ...on, overflowTeamId: 5 }, 3, null)).toEqual([])
    expect(validateRouting({ ...on, overflowEnabled: false, overflowTeamId: 5 }, 3, [3])).toEqual([])
    // Waits of switched-off options are not checked (they are not sent).
    expect(validateRouting({ ...base, overflowAfterSecs: -1 })).toEqual([])
    expect(validateRouting({ ...base, skillFallbackEnabled: false, skillFallbackSecs: -1 })).toEqual([])
    expect(validateRouting({ ...base, skillFallbackSecs: 1.5 })).toEqual([
      { code: 'secs_range', field: 'skill_fallback_after_secs' },
    ])
  })
})
