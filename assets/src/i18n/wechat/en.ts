// Explanations of WeChat and WeCom error codes and of WeCom 微信客服 fail types (delivery failure
// reasons, the connection test), under the `wechat` key of ../en.ts, shared by the workspace and
// the settings pages. Same key set as zh-CN.ts.
// vue-i18n syntax: { } @ $ | are special; a literal @ is written {'@'}.
export default {
  failure: 'WeChat {code}: {text}',
  wecomFailure: 'WeCom {code}: {text}',
  failType: 'WeCom fail_type {code}: {text}',
  codes: {
    busy: 'WeChat is busy; try again later',
    invalidSecret: 'The AppSecret is not valid; check (or reset) it in the WeChat console and enter it again',
    invalidOpenId: 'The customer\'s OpenID is not valid for this account',
    invalidAppId: 'The AppID is not valid; check it',
    ipNotWhitelisted: 'This server\'s outbound IP address is not on the account\'s IP whitelist; add it in the WeChat console (Settings and Development → Basic Configuration → IP whitelist), or the proxy\'s public IP when going through an outbound proxy',
    notFollowing: 'The customer does not follow the account',
    blacklisted: 'The customer is on the account\'s blacklist',
    tooLong: 'The message is too long',
    dailyQuota: 'The daily API quota is used up',
    tooFrequent: 'API calls are too frequent; try again later',
    windowClosed: 'The 48-hour reply window has closed (the customer has not written for 48 hours, or unfollowed); replies are possible again once the customer writes',
    replyQuota: 'Reply quota used up: at most 5 replies per customer message within 48 hours',
    apiUnauthorised: 'The account is not authorised for this API (for example not verified, or customer messages not enabled)',
    refused: 'The customer has turned off messages from the account',
    apiBanned: 'WeChat has banned this API for the account',
    tokenInvalid: 'The access token was not valid or had expired, and refreshing it and trying again did not help; try again later, and if it persists check the AppID (CorpID) and secret',
    invalidCorpId: 'The CorpID is not valid; check it in the WeCom admin console (My Company → Company Information)',
    invalidCorpSecret: 'The app secret is not valid; check (or view again) the secret of the self-built app in the WeCom admin console and enter it again',
    ipNotTrusted: 'This server\'s outbound IP address is not among the corp\'s trusted IPs; add it to the self-built app\'s trusted IPs (企业可信 IP) in the WeCom admin console, or the proxy\'s public IP when going through an outbound proxy',
    openKfidMissing: 'The customer-service account (open_kfid) does not exist; check the account ID in the connection settings',
    sessionEnded: 'The customer\'s 微信客服 session has ended; replies are possible again once the customer writes',
    sessionNotSendable: 'The session does not allow sending through the API now (a receptionist in WeCom is handling it, or it has ended)',
  },
  failTypes: {
    accountDeleted: 'The customer-service account was deleted',
    appClosed: 'The app was closed',
    windowClosed: 'The 48-hour reply window has closed (the customer has not written for 48 hours); replies are possible again once the customer writes',
    sessionEnded: 'The session has ended',
    replyQuota: 'Reply quota used up: at most 5 replies per customer message',
    cannotReceive: 'The customer has not completed verification or cannot receive messages',
    refused: 'The customer refused messages',
  },
}
