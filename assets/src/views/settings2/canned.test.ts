// Canned replies: variables, form checks, lists; agents' capacity and skills.
import { describe, expect, it } from 'vitest'
import type { AgentProfile, CannedReply } from '../../api/settings2-types'
import zhCN from '../../i18n/settings2/zh-CN'
import en from '../../i18n/settings2/en'
import {
  CANNED_VARIABLES,
  canEditCanned,
  fillVariables,
  insertVariable,
  looselyWrittenVariables,
  normaliseShortcut,
  splitCanned,
  unknownVariables,
  validateCanned,
} from './canned'
import { caseClashes, filterAgents, inboxMemberships, knownSkills, normaliseSkills, validateAgent } from './agents'

const reply = (id: number, shortcut: string, shared: boolean, over: Partial<CannedReply> = {}): CannedReply => ({
  id,
  shortcut,
  title: `title ${shortcut}`,
  body: 'body',
  shared,
  ...over,
})

function message(messages: unknown, key: string): unknown {
  return key
    .replace(/^settings2\./, '')
    .split('.')
    .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], messages)
}

describe('canned reply variables', () => {
  it('lists exactly the three variables the server fills, each described in both languages', () => {
    expect(CANNED_VARIABLES.map((v) => v.token)).toEqual(['{{contact.name}}', '{{agent.name}}', '{{inbox.name}}'])
    for (const v of CANNED_VARIABLES) {
      expect(typeof message(zhCN, v.key), v.key).toBe('string')
      expect(typeof message(en, v.key), v.key).toBe('string')
    }
  })

  it('finds variables the server does not know', () => {
    expect(unknownVariables('您好 {{contact.name}}，我是{{ agent.name }}')).toEqual([])
    expect(unknownVariables('{{contact.phone}} {{ order.id }} {{contact.phone}} {{}}')).toEqual([
      'contact.phone',
      'order.id',
      '',
    ])
    expect(unknownVariables('no variables { here }')).toEqual([])
  })

  it('inserts a variable at the cursor', () => {
    expect(insertVariable('您好，', '{{contact.name}}', 3)).toEqual({ body: '您好，{{contact.name}}', cursor: 19 })
    expect(insertVariable('ab', '{{x}}', 1)).toEqual({ body: 'a{{x}}b', cursor: 6 })
    expect(insertVariable('ab', '{{x}}', 99).body).toBe('ab{{x}}')
  })

  it('fills only the exact spellings, like the server, and points out loose ones', () => {
    const values = { '{{contact.name}}': '张*', '{{agent.name}}': '李四', '{{inbox.name}}': '官网' }
    expect(fillVariables('您好 {{contact.name}}，我是{{agent.name}}（{{inbox.name}}）{{x}}', values)).toBe(
      '您好 张*，我是李四（官网）{{x}}',
    )
    expect(fillVariables('{{ agent.name }}', values)).toBe('{{ agent.name }}')
    expect(looselyWrittenVariables('{{ agent.name }} {{agent.name}} {{ order }}')).toEqual(['{{ agent.name }}'])
  })
})

describe('validateCanned', () => {
  const existing = [reply(1, 'hello', false), reply(2, 'Thanks', true)]
  const form = { shortcut: 'bye', title: 'Bye', body: 'Goodbye', shared: false }

  it('accepts a complete reply and strips a typed slash', () => {
    expect(validateCanned(form, existing, null)).toEqual([])
    expect(normaliseShortcut(' /hi ')).toBe('hi')
  })

  it('needs a shortcut and a body; the title is optional', () => {
    expect(validateCanned({ shortcut: ' ', title: '', body: ' ', shared: false }, [], null)).toEqual([
      'shortcut_required',
      'body_required',
    ])
    expect(validateCanned({ ...form, title: '' }, [], null)).toEqual([])
  })

  it('keeps the server limits: one word without slashes, 32 / 100 / 5000 characters', () => {
    expect(validateCanned({ ...form, shortcut: 'two words' }, [], null)).toEqual(['shortcut_spaces'])
    expect(validateCanned({ ...form, shortcut: 'tab\tx' }, [], null)).toEqual(['shortcut_spaces'])
    expect(validateCanned({ ...form, shortcut: 'a/b' }, [], null)).toEqual(['shortcut_slash'])
    expect(validateCanned({ ...form, shortcut: '退'.repeat(32), title: '标'.repeat(100), body: '文'.repeat(5000) }, [], null)).toEqual([])
    expect(validateCanned({ ...form, shortcut: 'x'.repeat(33), title: 't'.repeat(101), body: 'b'.repeat(5001) }, [], null)).toEqual([
      'shortcut_too_long',
      'title_too_long',
      'body_too_long',
    ])
  })

  it('keeps shortcuts unique among own and among shared replies, ignoring case', () => {
    expect(validateCanned({ ...form, shortcut: 'HELLO' }, existing, null)).toEqual(['shortcut_taken'])
    expect(validateCanned({ ...form, shortcut: 'hello' }, existing, 1)).toEqual([])
    expect(validateCanned({ ...form, shortcut: 'hello', shared: true }, existing, null)).toEqual([])
    expect(validateCanned({ ...form, shortcut: 'thanks', shared: true }, existing, null)).toEqual(['shortcut_taken'])
  })
})

describe('canned lists', () => {
  it('splits personal and shared, sorted and filtered', () => {
    const all = [reply(1, 'b', false), reply(2, 'a', false), reply(3, 'c', true, { body: '退款流程' })]
    const { personal, shared } = splitCanned(all)
    expect(personal.map((c) => c.id)).toEqual([2, 1])
    expect(shared.map((c) => c.id)).toEqual([3])
    expect(splitCanned(all, '退款').shared.map((c) => c.id)).toEqual([3])
    expect(splitCanned(all, '退款').personal).toEqual([])
  })

  it('lets only settings writers change shared replies', () => {
    expect(canEditCanned(reply(1, 'a', false), false)).toBe(true)
    expect(canEditCanned(reply(1, 'a', true), false)).toBe(false)
    expect(canEditCanned(reply(1, 'a', true), true)).toBe(true)
  })
})

describe('agents', () => {
  const agents: AgentProfile[] = [
    { id: 1, name: '李四', status: 'online', chosen_status: 'online', load: 1, capacity: 5, skills: ['loans', 'VIP'], teams: [3], inboxes: [7] },
    { id: 2, name: 'Wang', status: 'offline', chosen_status: 'online', load: 0, capacity: 3, skills: ['cards'], teams: [], inboxes: [8, 9] },
  ]

  it('keeps skills as typed (routing compares them exactly) and suggests the known ones', () => {
    expect(normaliseSkills([' loans', 'loans', '', 'cards', 'Loans'])).toEqual(['cards', 'loans', 'Loans'])
    expect(knownSkills(agents, ['insurance', 'loans'])).toEqual(['cards', 'insurance', 'loans', 'VIP'])
  })

  it('points out skills that differ from a known one only in case', () => {
    expect(caseClashes(['vip', 'loans', 'new'], knownSkills(agents))).toEqual(['vip'])
    expect(caseClashes(['VIP'], knownSkills(agents))).toEqual([])
  })

  it('checks capacity and skills like the server', () => {
    expect(validateAgent(5, ['a'])).toEqual([])
    expect(validateAgent(0, [])).toEqual([])
    expect(validateAgent(1000, [])).toEqual([])
    expect(validateAgent(-1, [])).toEqual(['capacity_range'])
    expect(validateAgent(2.5, [])).toEqual(['capacity_range'])
    expect(validateAgent(1001, [])).toEqual(['capacity_range'])
    expect(validateAgent(null, [])).toEqual(['capacity_range'])
    expect(validateAgent(1, ['技'.repeat(40)])).toEqual([])
    expect(validateAgent(1, ['x'.repeat(41)])).toEqual(['skill_too_long'])
    expect(validateAgent(1, Array.from({ length: 51 }, (_, i) => `s${i}`))).toEqual(['too_many_skills'])
  })

  it('filters by name, skill, team or inbox', () => {
    const teamName = (id: number): string => (id === 3 ? '信贷组' : `#${id}`)
    const inboxName = (id: number): string => ({ 7: '官网', 8: '手机银行', 9: '微信银行' })[id] ?? ''
    expect(filterAgents(agents, 'wang', teamName).map((a) => a.id)).toEqual([2])
    expect(filterAgents(agents, 'loan', teamName).map((a) => a.id)).toEqual([1])
    expect(filterAgents(agents, '信贷', teamName).map((a) => a.id)).toEqual([1])
    expect(filterAgents(agents, ' ', teamName)).toHaveLength(2)
    expect(filterAgents(agents, '银行', teamName, inboxName).map((a) => a.id)).toEqual([2])
    expect(filterAgents(agents, '银行', teamName).map((a) => a.id)).toEqual([])
  })

  it('names inbox memberships, marking disabled and unlisted inboxes', () => {
    const inboxes = new Map([
      [8, { name: '手机银行', disabled: false }],
      [9, { name: '微信银行', disabled: true }],
    ])
    expect(inboxMemberships([8, 9, 12], inboxes)).toEqual([
      { id: 8, label: '手机银行', disabled: false },
      { id: 9, label: '微信银行', disabled: true },
      { id: 12, label: '#12', disabled: false },
    ])
    expect(inboxMemberships([], inboxes)).toEqual([])
  })
})
