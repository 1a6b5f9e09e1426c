/** The chat window's texts, zh-CN first. Kept apart from the workspace's vue-i18n messages so the window stays small. */
export const WIDGET_MESSAGES = {
  'zh-CN': {
    open: '打开在线客服',
    close: '收起对话窗口',
    defaultTitle: '在线客服',
    placeholder: '请输入消息，Enter 发送，Shift+Enter 换行',
    send: '发送',
    sending: '发送中…',
    failed: '发送失败，点击重试',
    recalled: '此消息已撤回',
    agent: '客服',
    automatic: '自动回复',
    offline: '当前不在服务时间，您可以留言，我们会尽快回复。',
    reconnecting: '网络连接中断，正在重新连接…',
    identityInvalid: '身份校验未通过，已以访客身份进入对话。',
    identityRequired: '请先登录网站后再咨询。',
    rateTitle: '请为本次服务评价',
    rateStar: '{n} 星',
    rateComment: '还有什么想告诉我们的吗？（选填）',
    rateSubmit: '提交评价',
    rateThanks: '感谢您的评价！',
    rateFailed: '评价提交失败，请重试',
    resolved: '本次对话已结束，如有新问题可直接发送消息。',
    tooFast: '发送太频繁，请稍后再试',
    queue: '正在为您安排客服，您前面还有 {n} 位客户。',
    queueNext: '正在为您安排客服，马上就到您了。',
    queueWait: '预计等待约 {m} 分钟。',
    agentTyping: '客服正在输入…',
    read: '已读',
    unread: '未读',
    attach: '发送图片或文件',
    emoji: '表情',
    fileTooLarge: '文件太大，最大 {max}',
    fileType: '不支持发送这种类型的文件',
    fileFailed: '文件无法打开，请稍后重试',
    download: '下载 {name}',
    prechatTitle: '开始咨询前，请留下您的信息，方便我们更好地为您服务',
    name: '姓名',
    phone: '手机号',
    email: '邮箱',
    message: '留言内容',
    optional: '（选填）',
    start: '开始咨询',
    leaveTitle: '现在是非服务时间，请留言，我们会在服务时间尽快联系您。',
    leaveHint: '手机号和邮箱请至少填写一项。',
    leaveSubmit: '提交留言',
    leaveThanks: '留言已收到，我们会在服务时间尽快联系您。',
    formRequired: '请填写{field}',
    formInvalid: '请检查手机号或邮箱的格式',
    formFailed: '提交失败，请重试',
  },
  en: {
    open: 'Open chat',
    close: 'Minimise chat',
    defaultTitle: 'Chat with us',
    placeholder: 'Type a message (Enter to send, Shift+Enter for a new line)',
    send: 'Send',
    sending: 'Sending…',
    failed: 'Not sent. Tap to retry',
    recalled: 'This message was recalled',
    agent: 'Agent',
    automatic: 'Automatic reply',
    offline: 'We are closed right now. Leave a message and we will reply as soon as we can.',
    reconnecting: 'Connection lost. Reconnecting…',
    identityInvalid: 'Your sign-in could not be verified; you are chatting as a guest.',
    identityRequired: 'Please sign in to the site to chat with us.',
    rateTitle: 'How did we do?',
    rateStar: '{n} stars',
    rateComment: 'Anything else you would like to tell us? (optional)',
    rateSubmit: 'Send rating',
    rateThanks: 'Thank you for your feedback!',
    rateFailed: 'The rating could not be sent. Please try again',
    resolved: 'This conversation has ended. Write again any time.',
    tooFast: 'You are sending too fast. Please wait a moment',
    queue: 'Finding an agent for you: {n} customers ahead of you.',
    queueNext: 'Finding an agent for you: you are next.',
    queueWait: 'Estimated wait: about {m} min.',
    agentTyping: 'The agent is typing…',
    read: 'Read',
    unread: 'Not read yet',
    attach: 'Send a picture or file',
    emoji: 'Emoji',
    fileTooLarge: 'The file is too large (at most {max})',
    fileType: 'This type of file cannot be sent',
    fileFailed: 'The file could not be opened. Please try again later',
    download: 'Download {name}',
    prechatTitle: 'Before we start, please tell us a little about yourself',
    name: 'Name',
    phone: 'Phone',
    email: 'Email',
    message: 'Your message',
    optional: ' (optional)',
    start: 'Start chat',
    leaveTitle: 'We are closed right now. Leave a message and we will get back to you during opening hours.',
    leaveHint: 'Please give at least a phone number or an email address.',
    leaveSubmit: 'Send message',
    leaveThanks: 'Thank you, we have your message and will get back to you during opening hours.',
    formRequired: 'Please fill in {field}',
    formInvalid: 'Please check the phone number or email address',
    formFailed: 'Could not send. Please try again',
  },
} as const

export type WidgetLocale = keyof typeof WIDGET_MESSAGES
export type WidgetKey = keyof (typeof WIDGET_MESSAGES)['zh-CN']

/** The inbox's language, else the visitor's browser language (Chinese or English). */
export function pickLocale(configured: string, browser: readonly string[]): WidgetLocale {
  if (configured === 'zh-CN' || configured === 'en') return configured
  for (const tag of browser) {
    const t = tag.toLowerCase()
    if (t.startsWith('zh')) return 'zh-CN'
    if (t.startsWith('en')) return 'en'
  }
  return 'zh-CN'
}

export function translate(locale: WidgetLocale, key: WidgetKey, params: Record<string, string | number> = {}): string {
  const text: string = WIDGET_MESSAGES[locale][key]
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole))
}
