// The inbox form ⇄ PUT /inboxes/{id} (exactly the server's keys), its checks, and where server
// details are shown.
import { describe, expect, it } from 'vitest'
import type { InboxDetail, InboxSettings } from '../../api/settings2-types'
import { apiInboxHookPath } from '../../api/settings2'
import {
  detailFieldKey,
  firstTabWithProblems,
  formToInboxRequest,
  inboxToForm,
  isValid,
  MAX_INVITATIONS,
  MAX_SLA_SECS,
  newInvitation,
  placeServerDetails,
  validateInboxForm,
  widgetSnippet,
} from './inbox-form'

// What `GET /inboxes/{id}` answers: every key of `InboxSettings` present.
const storedSettings: InboxSettings = {
  routing: {
    mode: 'round_robin',
    sticky: true,
    skills: [{ keywords: ['贷款'], pages: ['/loans/'], languages: ['zh-HK'], regions: ['HK'], skill: 'loans' }],
    overflow_team_id: 4,
    overflow_after_secs: 300,
    skill_fallback_after_secs: null,
  },
  hours: {
    utc_offset_minutes: 480,
    weekly: [[[540, 1080]], [[540, 1080]], [[540, 1080]], [[540, 1080]], [[540, 1080]], [], []],
    holidays: ['2026-10-01'],
    workdays: ['2026-10-11'],
  },
  auto_reply: { greeting: '您好', offline: '现在是非工作时间' },
  sla: { first_response_secs: 120, next_response_secs: 300, reassign_after_secs: 0 },
  webhook: { url: 'https://crm.example/hook' },
  widget: {
    allowed_origins: ['https://www.bank.example', 'http://10.1.2.3:8080'],
    color: '#aa3300',
    position: 'left',
    title: '网银客服',
    welcome: '您好！',
    language: 'zh-CN',
    require_identity: true,
    prechat: { name: 'required', phone: 'optional', email: 'off' },
    leave_message: false,
    invitations: [
      { message: '想了解贷款利率吗？点这里咨询。', delay_secs: 20, url_contains: '/loans', returning_only: false },
      { message: '欢迎回来！', delay_secs: 0, url_contains: '', returning_only: true },
    ],
  },
  wechat: {
    subscribe_greeting: '感谢关注！',
    click_replies: [{ key: 'MENU_HOURS', reply: '营业时间：工作日 9:00–17:00' }],
  },
}

const inbox = (over: Partial<InboxDetail> = {}): InboxDetail => ({
  id: 2,
  name: '官网',
  channel: 'api',
  team_id: 3,
  disabled: false,
  settings: storedSettings,
  hook_path: '/hooks/api/2/messages',
  created_at: 1,
  updated_at: 1,
  ...over,
})

// The server's defaults, as `GET` answers them for an inbox never saved.
const defaults: InboxSettings = {
  routing: {
    mode: 'round_robin',
    sticky: false,
    skills: [],
    overflow_team_id: null,
    overflow_after_secs: null,
    skill_fallback_after_secs: null,
  },
  hours: null,
  auto_reply: { greeting: '', offline: '' },
  sla: { first_response_secs: 120, next_response_secs: 300, reassign_after_secs: 0 },
  webhook: { url: '' },
  widget: {
    allowed_origins: [],
    color: '#1f5fbf',
    position: 'right',
    title: '',
    welcome: '',
    language: '',
    require_identity: false,
    prechat: { name: 'off', phone: 'off', email: 'off' },
    leave_message: true,
    invitations: [],
  },
  wechat: { subscribe_greeting: '', click_replies: [] },
}

describe('website widget settings', () => {
  it('checks the origins, colour and texts, and places server details on the widget tab', () => {
    const form = inboxToForm(inbox({ channel: 'web' }))
    expect(validateInboxForm(form).widget).toEqual([])
    form.widget.origins = 'https://www.bank.example\n\n  https://shop.example/chat \n*'
    form.widget.color = 'red'
    form.widget.title = '标'.repeat(61)
    const codes = validateInboxForm(form).widget.map((p) => `${p.field}:${p.code}`)
    expect(codes).toEqual(['widget_origins:origin_invalid', 'widget_color:color_invalid', 'widget_title:text_too_long'])
    expect(firstTabWithProblems(validateInboxForm(form))).toBe('widget')
    form.widget.origins = ' https://www.bank.example \n\nhttp://10.1.2.3:8080/ '
    expect(formToInboxRequest(form).settings.widget.allowed_origins).toEqual([
      'https://www.bank.example',
      'http://10.1.2.3:8080/',
    ])
    const placed = placeServerDetails(['widget.allowed_origins: "x" is not an origin'])
    expect(placed).toEqual([{ tab: 'widget', path: 'widget.allowed_origins', text: '"x" is not an origin' }])
    expect(detailFieldKey('widget.allowed_origins')).toBe('settings2.inboxes.widgetOrigins')
  })

  it('reads the pre-chat form and the leave-a-message switch, and writes them back as the server keys', () => {
    const form = inboxToForm(inbox({ channel: 'web' }))
    expect(form.widget.prechat).toEqual({ name: 'required', phone: 'optional', email: 'off' })
    expect(form.widget.leaveMessage).toBe(false)
    form.widget.prechat.email = 'required'
    form.widget.leaveMessage = true
    const widget = formToInboxRequest(form).settings.widget
    expect(widget.prechat).toEqual({ name: 'required', phone: 'optional', email: 'required' })
    expect(widget.leave_message).toBe(true)
    expect(Object.keys(widget.prechat).sort()).toEqual(['email', 'name', 'phone'])
  })

  it('reads unknown or missing pre-chat modes as off and a non-boolean leave-a-message as on (the server defaults)', () => {
    const odd = (widget: unknown): InboxDetail =>
      inbox({ channel: 'web', settings: { ...storedSettings, widget } as InboxSettings })
    const unknown = inboxToForm(
      odd({ ...storedSettings.widget, prechat: { name: 'sometimes', phone: 42, email: 'REQUIRED', extra: 'required' }, leave_message: 'no' }),
    )
    expect(unknown.widget.prechat).toEqual({ name: 'off', phone: 'off', email: 'off' })
    expect(unknown.widget.leaveMessage).toBe(true)
    const body = formToInboxRequest(unknown).settings.widget
    expect(body.prechat).toEqual({ name: 'off', phone: 'off', email: 'off' })
    expect(body.leave_message).toBe(true)
    const partial = inboxToForm(odd({ ...storedSettings.widget, prechat: { phone: 'required' }, leave_message: undefined }))
    expect(partial.widget.prechat).toEqual({ name: 'off', phone: 'required', email: 'off' })
    expect(partial.widget.leaveMessage).toBe(true)
    for (const prechat of [null, 'required', [], undefined]) {
      expect(inboxToForm(odd({ ...storedSettings.widget, prechat })).widget.prechat).toEqual(defaults.widget.prechat)
    }
  })

  it('names the pre-chat and leave-a-message fields in server details', () => {
    const placed = placeServerDetails(['widget.prechat.phone: off, optional or required'])
    expect(placed).toEqual([{ tab: 'widget', path: 'widget.prechat.phone', text: 'off, optional or required' }])
    expect(detailFieldKey('widget.prechat.phone')).toBe('settings2.inboxes.widgetPrechat')
    expect(detailFieldKey('widget.leave_message')).toBe('settings2.inboxes.widgetLeaveMessage')
  })

  it('reads the invitation rules in order, and writes them back as the server keys', () => {
    const form = inboxToForm(inbox({ channel: 'web' }))
    expect(form.widget.invitations).toEqual([
      { message: '想了解贷款利率吗？点这里咨询。', delaySecs: 20, urlContains: '/loans', returningOnly: false },
      { message: '欢迎回来！', delaySecs: 0, urlContains: '', returningOnly: true },
    ])
    form.widget.invitations.reverse()
    form.widget.invitations.push({ ...newInvitation(), message: '  需要帮忙吗？ ', urlContains: ' /cards ' })
    const invitations = formToInboxRequest(form).settings.widget.invitations
    expect(invitations).toEqual([
      { message: '欢迎回来！', delay_secs: 0, url_contains: '', returning_only: true },
      { message: '想了解贷款利率吗？点这里咨询。', delay_secs: 20, url_contains: '/loans', returning_only: false },
      { message: '需要帮忙吗？', delay_secs: 30, url_contains: '/cards', returning_only: false },
    ])
    for (const i of invitations) expect(Object.keys(i).sort()).toEqual(['delay_secs', 'message', 'returning_only', 'url_contains'])
  })

  it('adds a rule with the server defaults (30 seconds, any page, every visitor)', () => {
    expect(newInvitation()).toEqual({ message: '', delaySecs: 30, urlContains: '', returningOnly: false })
  })

  it('reads malformed invitation rules safely: odd entries dropped, odd values as the server defaults', () => {
    const odd = (invitations: unknown): InboxDetail =>
      inbox({ channel: 'web', settings: { ...storedSettings, widget: { ...storedSettings.widget, invitations } } as InboxSettings })
    for (const invitations of [null, undefined, 'all', {}, 7]) {
      expect(inboxToForm(odd(invitations)).widget.invitations, String(invitations)).toEqual([])
    }
    const form = inboxToForm(
      odd([
        null,
        'hello',
        [1],
        { message: 42, delay_secs: '10', url_contains: null, returning_only: 'yes', extra: 1 },
        { message: '您好', delay_secs: 5000 },
        { message: '您好', delay_secs: -3 },
        { message: '您好', delay_secs: 12.6, returning_only: true },
        { message: '您好', delay_secs: Number.NaN },
      ]),
    )
    expect(form.widget.invitations).toEqual([
      { message: '', delaySecs: 30, urlContains: '', returningOnly: false },
      { message: '您好', delaySecs: 3600, urlContains: '', returningOnly: false },
      { message: '您好', delaySecs: 0, urlContains: '', returningOnly: false },
      { message: '您好', delaySecs: 13, urlContains: '', returningOnly: true },
      { message: '您好', delaySecs: 30, urlContains: '', returningOnly: false },
    ])
    // The one without a message is the admin's to fix before saving, not dropped silently.
    expect(validateInboxForm(form).widget).toEqual([
      { code: 'invitation_message_required', field: 'widget_invitation_message', row: 0 },
    ])
    const body = formToInboxRequest(form).settings.widget.invitations
    expect(body.map((i) => i.delay_secs)).toEqual([30, 3600, 0, 13, 30])
    expect(body.every((i) => Object.keys(i).length === 4)).toBe(true)
  })

  it('checks the invitation rules like the server, row by row', () => {
    const form = inboxToForm(inbox({ channel: 'web' }))
    expect(validateInboxForm(form).widget).toEqual([])
    const rule = (over: Partial<ReturnType<typeof newInvitation>>) => ({ ...newInvitation(), message: '您好', ...over })
    // The limits themselves pass: 200 characters (counted like the server, after trimming), 0 and 3600 seconds.
    form.widget.invitations = [
      rule({ message: ` ${'邀'.repeat(200)} `, delaySecs: 0, urlContains: '😀'.repeat(200) }),
      rule({ delaySecs: 3600 }),
    ]
    expect(validateInboxForm(form).widget).toEqual([])
    form.widget.invitations = [
      rule({}),
      rule({ message: '   ', delaySecs: 3601, urlContains: '/'.repeat(201) }),
      rule({ message: '邀'.repeat(201), delaySecs: undefined }),
      rule({ delaySecs: null as unknown as undefined }),
      rule({ delaySecs: 1.5 }),
    ]
    const problems = validateInboxForm(form)
    expect(problems.widget).toEqual([
      { code: 'invitation_message_required', field: 'widget_invitation_message', row: 1 },
      { code: 'invitation_delay_range', field: 'widget_invitation_delay', row: 1 },
      { code: 'text_too_long', field: 'widget_invitation_url', row: 1 },
      { code: 'text_too_long', field: 'widget_invitation_message', row: 2 },
      { code: 'invitation_delay_range', field: 'widget_invitation_delay', row: 2 },
      { code: 'invitation_delay_range', field: 'widget_invitation_delay', row: 3 },
      { code: 'invitation_delay_range', field: 'widget_invitation_delay', row: 4 },
    ])
    expect(firstTabWithProblems(problems)).toBe('widget')
    form.widget.invitations = Array.from({ length: MAX_INVITATIONS }, () => rule({}))
    expect(validateInboxForm(form).widget).toEqual([])
    form.widget.invitations.push(rule({}))
    expect(validateInboxForm(form).widget).toEqual([{ code: 'too_many_invitations', field: 'widget_invitations' }])
  })

  it('places the server invitation details on the widget tab, under the invitations', () => {
    const placed = placeServerDetails(['widget.invitations[1].message: 1 to 200 characters', 'widget.invitations: at most 10'])
    expect(placed).toEqual([
      { tab: 'widget', path: 'widget.invitations[1].message', text: '1 to 200 characters' },
      { tab: 'widget', path: 'widget.invitations', text: 'at most 10' },
    ])
    expect(detailFieldKey('widget.invitations[1].delay_secs')).toBe('settings2.inboxes.widgetInvitations')
    expect(detailFieldKey('widget.invitations')).toBe('settings2.inboxes.widgetInvitations')
  })

  it('gives the snippet host sites paste', () => {
    expect(widgetSnippet('https://cs.bank.example', 12)).toBe(
      '<script src="https://cs.bank.example/widget.js" data-inbox="12" async></script>',
    )
  })
})

describe('WeChat instant answers', () => {
  it('are checked like the server, and their server details land on the WeChat tab', () => {
    const form = inboxToForm(inbox({ channel: 'wechat_mp' }))
    expect(validateInboxForm(form).wechat).toEqual([])
    form.wechat.greeting = '谢'.repeat(601)
    form.wechat.clicks.push({ key: 'MENU_HOURS', reply: '重复' })
    const problems = validateInboxForm(form)
    expect(problems.wechat).toEqual([
      { code: 'text_too_long', field: 'greeting' },
      { code: 'key_duplicate', field: 'key', row: 1 },
    ])
    expect(firstTabWithProblems(problems)).toBe('wechat')
    const placed = placeServerDetails(['wechat.click_replies[0].key: 1 to 128 bytes', 'wechat.subscribe_greeting: at most 600 characters'])
    expect(placed).toEqual([
      { tab: 'wechat', path: 'wechat.click_replies[0].key', text: '1 to 128 bytes' },
      { tab: 'wechat', path: 'wechat.subscribe_greeting', text: 'at most 600 characters' },
    ])
    expect(detailFieldKey('wechat.click_replies[0].key')).toBe('settings2.wechat.clickReplies')
    expect(detailFieldKey('wechat.subscribe_greeting')).toBe('settings2.wechat.greeting')
  })
})

describe('inbox ⇄ form', () => {
  it('writes back what it read, unchanged', () => {
    const body = formToInboxRequest(inboxToForm(inbox()))
    expect(body).toEqual({ name: '官网', team_id: 3, disabled: false, settings: storedSettings })
  })

  it('writes back the server defaults unchanged, with exactly the server keys', () => {
    const body = formToInboxRequest(inboxToForm(inbox({ channel: 'web', settings: defaults, team_id: null })))
    expect(body.settings).toEqual(defaults)
    expect(Object.keys(body).sort()).toEqual(['disabled', 'name', 'settings', 'team_id'])
    expect(Object.keys(body.settings).sort()).toEqual(['auto_reply', 'hours', 'routing', 'sla', 'webhook', 'wechat', 'widget'])
  })

  it('keeps a disabled inbox disabled (the server would re-enable one sent without the flag)', () => {
    const form = inboxToForm(inbox({ disabled: true }))
    expect(form.disabled).toBe(true)
    expect(formToInboxRequest(form).disabled).toBe(true)
  })

  it('drops keys the server would refuse, and trims the name and webhook', () => {
    const odd = { ...storedSettings, bot: { enabled: true } } as InboxSettings
    const form = inboxToForm(inbox({ settings: odd }))
    const body = formToInboxRequest({ ...form, name: ' 官网 ', webhookUrl: ' https://crm.example/new ' })
    expect(body.settings).not.toHaveProperty('bot')
    expect(body.name).toBe('官网')
    expect(body.settings.webhook).toEqual({ url: 'https://crm.example/new' })
  })

  it('fills defaults for missing sections', () => {
    const form = inboxToForm(inbox({ settings: {} as InboxSettings }))
    expect(form.hours.alwaysOpen).toBe(true)
    expect(form.firstResponseSecs).toBe(120)
    expect(form.nextResponseSecs).toBe(300)
    expect(form.reassignAfterSecs).toBe(0)
    expect(formToInboxRequest(form).settings).toEqual(defaults)
  })

  it('names the hook path of an API inbox like the server', () => {
    expect(apiInboxHookPath(2)).toBe(inbox().hook_path)
  })
})

describe('validateInboxForm', () => {
  it('accepts the stored settings', () => {
    expect(isValid(validateInboxForm(inboxToForm(inbox())))).toBe(true)
  })

  it('reports problems by tab, and the first tab to show', () => {
    const form = inboxToForm(inbox())
    form.name = '  '
    form.webhookUrl = 'ftp://x'
    form.offline = 'x'.repeat(2001)
    form.firstResponseSecs = MAX_SLA_SECS + 1
    form.reassignAfterSecs = -1
    form.hours.weekly[0] = [{ start: 600, end: 500 }]
    const problems = validateInboxForm(form)
    expect(problems.general.map((p) => p.code)).toEqual(['name_required', 'webhook_scheme'])
    expect(problems.replies).toEqual([{ code: 'text_too_long', field: 'offline' }])
    expect(problems.sla).toEqual([
      { code: 'sla_range', field: 'first_response' },
      { code: 'sla_range', field: 'reassign_after' },
    ])
    expect(problems.hours[0]?.code).toBe('order')
    expect(firstTabWithProblems(problems)).toBe('general')
    expect(firstTabWithProblems({ ...problems, general: [] })).toBe('hours')
  })

  it('takes names of 1 to 60 characters, counted like the server', () => {
    const form = inboxToForm(inbox())
    expect(validateInboxForm({ ...form, name: '网'.repeat(60) }).general).toEqual([])
    expect(validateInboxForm({ ...form, name: 'n'.repeat(61) }).general).toEqual([
      { code: 'name_too_long', field: 'name' },
    ])
  })

  it('needs the overflow team to exist when every team is known, and leaves it to the server otherwise', () => {
    const form = inboxToForm(inbox()) // overflows into team 4
    expect(validateInboxForm(form, [3, 4]).routing).toEqual([])
    expect(validateInboxForm(form, [3]).routing).toEqual([{ code: 'overflow_team_missing', field: 'overflow_team_id' }])
    expect(validateInboxForm(form, null).routing).toEqual([])
    expect(firstTabWithProblems(validateInboxForm(form, []))).toBe('routing')
  })

  it('checks the webhook scheme like the server (any case, empty allowed)', () => {
    const form = inboxToForm(inbox())
    for (const url of ['', 'HTTPS://crm.example', ' http://10.0.0.5:8080/hook ']) {
      expect(validateInboxForm({ ...form, webhookUrl: url }).general, url).toEqual([])
    }
  })
})

describe('server details', () => {
  it('puts each detail the server writes on its tab with the field it names', () => {
    const placed = placeServerDetails([
      'routing: skills[0].skill: must not be empty',
      'hours: weekly[2][0]: need 0 <= start < end <= 1440 (found [600,500])',
      'hours: workdays[0]: 2026-10-12 is not a Saturday or Sunday',
      'sla.first_response_secs: at most 7 days',
      'auto_reply.greeting: at most 2000 characters',
      'webhook.url: must start with http:// or https://',
      'name: 1 to 60 characters',
      'routing: overflow_team_id: team 9 does not exist',
      'routing: overflow_team_id: a team cannot overflow into itself',
      'something odd happened',
      'colour: not known',
      42,
    ])
    expect(placed).toEqual([
      { tab: 'routing', path: 'routing.skills[0].skill', text: 'must not be empty' },
      { tab: 'hours', path: 'hours.weekly[2][0]', text: 'need 0 <= start < end <= 1440 (found [600,500])' },
      { tab: 'hours', path: 'hours.workdays[0]', text: '2026-10-12 is not a Saturday or Sunday' },
      { tab: 'sla', path: 'sla.first_response_secs', text: 'at most 7 days' },
      { tab: 'replies', path: 'auto_reply.greeting', text: 'at most 2000 characters' },
      { tab: 'general', path: 'webhook.url', text: 'must start with http:// or https://' },
      { tab: 'general', path: 'name', text: '1 to 60 characters' },
      { tab: 'routing', path: 'routing.overflow_team_id', text: 'team 9 does not exist' },
      { tab: 'routing', path: 'routing.overflow_team_id', text: 'a team cannot overflow into itself' },
      { tab: 'general', path: '', text: 'something odd happened' },
      { tab: 'general', path: '', text: 'colour: not known' },
    ])
    expect(placeServerDetails(undefined)).toEqual([])
  })

  it('names the fields it knows', () => {
    expect(detailFieldKey('sla.first_response_secs')).toBe('settings2.inboxes.firstResponse')
    expect(detailFieldKey('sla.reassign_after_secs')).toBe('settings2.inboxes.reassignAfter')
    expect(detailFieldKey('routing.skill_fallback_after_secs')).toBe('settings2.routing.skillFallback')
    expect(detailFieldKey('routing.skills[0].skill')).toBe('settings2.routing.skills')
    expect(detailFieldKey('routing.mode')).toBe('settings2.inboxes.tabs.routing')
    expect(detailFieldKey('routing.overflow_team_id')).toBe('settings2.routing.overflow')
    expect(detailFieldKey('name')).toBe('settings2.inboxes.name')
    expect(detailFieldKey('colour')).toBeNull()
  })
})
