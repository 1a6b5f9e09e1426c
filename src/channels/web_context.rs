//! What agents see of a widget visitor besides their messages: the device and browser (from
//! the user agent), where they came from (the referrer, and what they searched for when it was
//! a search engine), the page they landed on and the pages they opened since, with times.

use serde::Serialize;
use utoipa::ToSchema;

use crate::store::visits::Visit;

/// A gap this long between pages starts a new visit.
pub const VISIT_GAP_MS: i64 = 30 * 60_000;
/// Pages of the current visit shown.
pub const MAX_PAGES: usize = 30;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Device {
    /// `desktop`, `mobile`, `tablet` or `other`.
    pub kind: String,
    /// For example `Windows 10`, `iOS 17.4`, `Android 14`.
    pub os: String,
    /// For example `Chrome 124`, `WeChat 8.0.49`, `Safari 17.4`.
    pub browser: String,
    /// Inside the WeChat app (its built-in browser).
    pub in_wechat: bool,
}

fn after<'a>(ua: &'a str, marker: &str) -> Option<&'a str> {
    let rest = &ua[ua.find(marker)? + marker.len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
        .unwrap_or(rest.len());
    Some(&rest[..end]).filter(|v| !v.is_empty())
}

/// The device a user agent describes. Chinese in-app browsers (WeChat, WeCom, QQ) are named
/// before the general parser's answer, which does not know them.
pub fn device(ua: &str) -> Device {
    let parsed = woothee::parser::Parser::new().parse(ua);
    let kind = match parsed.as_ref().map(|p| p.category) {
        Some("pc") => "desktop",
        Some("smartphone") | Some("mobilephone") => "mobile",
        _ => "other",
    };
    let tablet = ua.contains("iPad") || (ua.contains("Android") && !ua.contains("Mobile"));
    let kind = if tablet && kind != "desktop" {
        "tablet"
    } else {
        kind
    };
    let join = |name: &str, version: &str| match version {
        "" | "UNKNOWN" => name.to_string(),
        v => format!("{name} {v}"),
    };
    let os = parsed
        .as_ref()
        .filter(|p| p.os != "UNKNOWN")
        // Woothee names Apple's phones and tablets, not their system.
        .map(|p| match p.os {
            "iPhone" | "iPad" | "iPod" => join("iOS", &p.os_version),
            os => join(os, &p.os_version),
        })
        .unwrap_or_default();
    let in_app = [
        ("wxwork/", "WeCom"),
        ("MicroMessenger/", "WeChat"),
        ("MQQBrowser/", "QQ Browser"),
        ("QQ/", "QQ"),
        ("UCBrowser/", "UC Browser"),
        ("HuaweiBrowser/", "Huawei Browser"),
        ("EdgA/", "Edge"),
        ("Edg/", "Edge"),
    ];
    let browser = in_app
        .iter()
        .find_map(|(marker, name)| after(ua, marker).map(|v| join(name, v)))
        .or_else(|| {
            parsed
                .as_ref()
                .filter(|p| p.name != "UNKNOWN")
                .map(|p| join(p.name, p.version))
        })
        .unwrap_or_default();
    Device {
        kind: kind.to_string(),
        os,
        browser,
        in_wechat: ua.contains("MicroMessenger/"),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Search {
    /// `baidu`, `sogou`, `so360`, `shenma`, `bing`, `google`.
    pub engine: String,
    pub keywords: String,
}

/// The search a referrer shows, when it is a search engine's results page with the query in it.
pub fn search(referrer: &str) -> Option<Search> {
    let u = url::Url::parse(referrer).ok()?;
    let host = u.host_str()?.to_ascii_lowercase();
    let on = |domain: &str| host == domain || host.ends_with(&format!(".{domain}"));
    let (engine, params): (&str, &[&str]) = if on("baidu.com") {
        ("baidu", &["wd", "word", "kw"])
    } else if on("sogou.com") {
        ("sogou", &["query", "keyword"])
    } else if on("so.com") {
        ("so360", &["q"])
    } else if on("sm.cn") {
        ("shenma", &["q"])
    } else if on("bing.com") {
        ("bing", &["q"])
    } else if host.starts_with("google.") || host.contains(".google.") {
        ("google", &["q"])
    } else {
        return None;
    };
    let keywords = params.iter().find_map(|p| {
        u.query_pairs()
            .find(|(k, v)| k == p && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
    })?;
    Some(Search {
        engine: engine.to_string(),
        keywords,
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Page {
    pub url: String,
    pub title: Option<String>,
    /// When it was opened (ms).
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct VisitorContext {
    /// The first page of the current visit.
    pub landing: Option<Page>,
    /// Where the current visit came from (another site; empty when typed or bookmarked).
    pub referrer: Option<String>,
    /// What they searched for, when they came from a search engine.
    pub search: Option<Search>,
    /// Pages of the current visit, newest first.
    pub pages: Vec<Page>,
    /// Visits (pages more than 30 minutes apart start a new one) in the last 30 days.
    pub visits: u32,
    /// The first page seen in the last 30 days (ms).
    pub first_seen: Option<i64>,
    /// From the latest page's user agent.
    pub device: Option<Device>,
}

/// The context of a visitor from their pages (oldest first).
pub fn context(pages: &[Visit]) -> VisitorContext {
    let mut visits = 0u32;
    let mut start = 0usize;
    for (i, p) in pages.iter().enumerate() {
        let new_visit = i == 0
            || pages
                .get(i - 1)
                .is_some_and(|prev| p.at - prev.at > VISIT_GAP_MS);
        if new_visit {
            visits += 1;
            start = i;
        }
    }
    let current = pages.get(start..).unwrap_or_default();
    let page = |v: &Visit| Page {
        url: v.url.clone(),
        title: v.title.clone(),
        at: v.at,
    };
    let landing = current.first();
    // A referrer on the site itself is navigation, not where the visit came from.
    let site = |u: &str| {
        url::Url::parse(u)
            .ok()
            .map(|u| u.origin().ascii_serialization())
    };
    let referrer = landing
        .and_then(|l| l.referrer.clone())
        .filter(|r| !r.is_empty() && landing.is_some_and(|l| site(r) != site(&l.url)));
    VisitorContext {
        landing: landing.map(page),
        search: referrer.as_deref().and_then(search),
        referrer,
        pages: current.iter().rev().take(MAX_PAGES).map(page).collect(),
        visits,
        first_seen: pages.first().map(|p| p.at),
        device: pages.last().map(|p| device(&p.user_agent)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WECHAT_IOS: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI Language/zh_CN";
    const CHROME_WIN: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
    const ANDROID_TABLET: &str = "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

    #[test]
    fn devices_and_chinese_in_app_browsers() {
        let d = device(WECHAT_IOS);
        assert_eq!(
            (d.kind.as_str(), d.browser.as_str(), d.in_wechat),
            ("mobile", "WeChat 8.0.49", true)
        );
        assert!(d.os.starts_with("iOS"), "{d:?}");
        let d = device(CHROME_WIN);
        assert_eq!((d.kind.as_str(), d.in_wechat), ("desktop", false));
        assert!(d.browser.starts_with("Chrome 124"), "{d:?}");
        assert!(d.os.starts_with("Windows"), "{d:?}");
        assert_eq!(device(ANDROID_TABLET).kind, "tablet");
        assert_eq!(device("").browser, "");
    }

    #[test]
    fn search_keywords_from_chinese_and_other_engines() {
        let s = |r: &str| search(r).map(|s| (s.engine, s.keywords));
        assert_eq!(
            s("https://www.baidu.com/s?ie=utf-8&wd=%E4%BF%A1%E7%94%A8%E5%8D%A1%E5%88%86%E6%9C%9F"),
            Some(("baidu".into(), "信用卡分期".into()))
        );
        assert_eq!(
            s("https://m.baidu.com/s?word=房贷利率"),
            Some(("baidu".into(), "房贷利率".into()))
        );
        assert_eq!(
            s("https://www.sogou.com/web?query=挂号"),
            Some(("sogou".into(), "挂号".into()))
        );
        assert_eq!(
            s("https://www.so.com/s?q=社保查询"),
            Some(("so360".into(), "社保查询".into()))
        );
        assert_eq!(
            s("https://www.bing.com/search?q=atrium+help"),
            Some(("bing".into(), "atrium help".into()))
        );
        assert_eq!(
            s("https://www.google.com.hk/search?q=%E7%BD%91%E9%93%B6"),
            Some(("google".into(), "网银".into()))
        );
        assert_eq!(s("https://www.baidu.com/"), None);
        assert_eq!(s("https://evilbaidu.com/s?wd=x"), None);
        assert_eq!(s("not a url"), None);
    }

    fn visit(id: i64, url: &str, referrer: Option<&str>, at: i64) -> Visit {
        Visit {
            id,
            url: url.into(),
            title: Some(format!("第{id}页")),
            referrer: referrer.map(str::to_string),
            user_agent: CHROME_WIN.into(),
            at,
        }
    }

    #[test]
    fn the_current_visit_its_landing_page_and_where_it_came_from() {
        let min = 60_000;
        let pages = [
            visit(
                1,
                "https://bank.example/",
                Some("https://www.sogou.com/web?query=旧"),
                0,
            ),
            visit(
                2,
                "https://bank.example/cards",
                Some("https://bank.example/"),
                2 * min,
            ),
            // An hour later: a new visit, from Baidu.
            visit(
                3,
                "https://bank.example/loans",
                Some("https://www.baidu.com/s?wd=房贷"),
                62 * min,
            ),
            visit(
                4,
                "https://bank.example/loans/apply",
                Some("https://bank.example/loans"),
                65 * min,
            ),
        ];
        let c = context(&pages);
        assert_eq!(c.visits, 2);
        assert_eq!(c.first_seen, Some(0));
        assert_eq!(
            c.landing.as_ref().map(|p| p.url.as_str()),
            Some("https://bank.example/loans")
        );
        assert_eq!(c.search.map(|s| s.keywords), Some("房贷".into()));
        let urls: Vec<&str> = c.pages.iter().map(|p| p.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://bank.example/loans/apply",
                "https://bank.example/loans"
            ]
        );
        // Landing from the site itself (a new visit started by an internal link): no referrer.
        let c = context(&[visit(
            5,
            "https://bank.example/a",
            Some("https://bank.example/"),
            0,
        )]);
        assert_eq!((c.referrer, c.search), (None, None));
        assert_eq!(context(&[]).visits, 0);
    }
}
