// 微信错误码的说明（投递失败原因、连接测试），合并到 ../zh-CN.ts 的 wechat 键下，
// 工作台和设置页共用。en.ts 必须与本文件拥有完全相同的键集合。
// 注意：vue-i18n 的消息语法中 { } @ $ | 为特殊字符，字面量需写成 {'@'} 等形式。
export default {
  failure: '微信 {code}：{text}',
  codes: {
    busy: '微信系统繁忙，请稍后重试',
    invalidSecret: 'AppSecret 无效，请到微信公众平台核对（或重置）后重新填写',
    invalidOpenId: '客户的 OpenID 对本公众号无效',
    invalidAppId: 'AppID 无效，请核对',
    ipNotWhitelisted: '本服务器的出口 IP 不在公众号的 IP 白名单中，请在微信公众平台“设置与开发 → 基本配置 → IP 白名单”中添加（经出站代理访问时，添加代理的公网 IP）',
    notFollowing: '客户未关注公众号',
    blacklisted: '客户已被公众号拉黑',
    tooLong: '消息内容过长',
    dailyQuota: '接口调用次数已达今日上限',
    tooFrequent: '接口调用过于频繁，请稍后重试',
    windowClosed: '客户超过 48 小时未发消息（或已取消关注），回复窗口已关闭，客户再次发来消息后才能回复',
    replyQuota: '已达回复上限：客户每发来一条消息，48 小时内最多可回复 5 条',
    apiUnauthorised: '公众号没有此接口的权限（如未认证，或未开通客服消息）',
    refused: '客户已拒收公众号的消息',
    apiBanned: '此接口已被微信封禁',
  },
}
