//! Masking of PII for callers who may not see it in full (everyone without `pii:reveal`).
//!
//! Formats follow common practice in Chinese banking and government systems:
//! phone `138****5678`, 身份证 `110105********1234`, bank card `**** **** **** 1234`,
//! e-mail `z***@example.com`, address cut to province/city, name keeps the surname.
//! Masking never fails: a value that does not look like the expected kind is masked generically.

const STAR: char = '*';

fn stars(n: usize) -> String {
    std::iter::repeat_n(STAR, n).collect()
}

/// Keep the first `head` and last `tail` characters, star the rest (at least 4 stars).
fn keep_ends(chars: &[char], head: usize, tail: usize) -> String {
    if chars.len() <= head + tail {
        return generic(chars);
    }
    let mid = chars.len() - head - tail;
    let mut s: String = chars.iter().take(head).collect();
    s.push_str(&stars(mid.max(4)));
    s.extend(chars.iter().skip(chars.len() - tail));
    s
}

/// Short or unrecognised values: first character then `***`; empty stays empty.
fn generic(chars: &[char]) -> String {
    match chars.first() {
        None => String::new(),
        Some(c) if chars.len() > 2 => format!("{c}***"),
        Some(_) => "***".to_string(),
    }
}

/// An opaque identifier (openid, visitor id, customer-system id): the first three characters.
pub fn identifier(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= 6 {
        return "***".into();
    }
    format!("{}***", chars.iter().take(3).collect::<String>())
}

/// `13812345678` → `138****5678`; `+86 138 1234 5678` → `+86 138****5678`; landlines keep the
/// area code and the last 4 digits.
pub fn phone(value: &str) -> String {
    let v = value.trim();
    let digits: Vec<char> = v.chars().filter(char::is_ascii_digit).collect();
    let (prefix, national): (&str, &[char]) =
        if v.starts_with('+') && digits.starts_with(&['8', '6']) {
            ("+86 ", digits.get(2..).unwrap_or_default())
        } else if v.starts_with('+') {
            // Other countries: keep "+" and the last 4.
            return format!("+{}", keep_ends(&digits, 0, 4));
        } else {
            ("", &digits)
        };
    if national.len() == 11 && national.first() == Some(&'1') {
        return format!("{prefix}{}", keep_ends(national, 3, 4));
    }
    if national.len() >= 7 {
        let head = if national.first() == Some(&'0') { 3 } else { 0 };
        return format!("{prefix}{}", keep_ends(national, head, 4));
    }
    generic(&v.chars().collect::<Vec<_>>())
}

/// 身份证: 18 digits (last may be X) → `110105********1234`; 15-digit cards keep 6 + 3.
pub fn id_number(value: &str) -> String {
    let chars: Vec<char> = value
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    match chars.len() {
        18 => keep_ends(&chars, 6, 4),
        15 => keep_ends(&chars, 6, 3),
        _ if chars.len() > 8 => keep_ends(&chars, 2, 2),
        _ => generic(&chars),
    }
}

/// Bank card → `**** **** **** 1234` (only the last 4 digits).
pub fn bank_card(value: &str) -> String {
    let digits: Vec<char> = value.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 12 {
        return generic(&digits);
    }
    let last: String = digits.iter().skip(digits.len() - 4).collect();
    format!("**** **** **** {last}")
}

/// `zhang.san@example.com` → `z***@example.com`.
pub fn email(value: &str) -> String {
    let v = value.trim();
    match v.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        _ => generic(&v.chars().collect::<Vec<_>>()),
    }
}

/// Address cut to province and city: `广东省深圳市南山区科技园…` → `广东省深圳市****`;
/// `北京市朝阳区…` → `北京市****`. Unrecognised addresses keep their first two characters.
pub fn address(value: &str) -> String {
    let v = value.trim();
    let end = province_city_end(v);
    match end {
        Some(e) if e < v.len() => format!("{}****", v.get(..e).unwrap_or_default()),
        Some(_) => v.to_string(),
        None => {
            let chars: Vec<char> = v.chars().collect();
            if chars.len() <= 2 {
                generic(&chars)
            } else {
                format!("{}****", chars.iter().take(2).collect::<String>())
            }
        }
    }
}

/// Byte offset just after the province/city part of a Chinese address, if found.
fn province_city_end(v: &str) -> Option<usize> {
    const MUNICIPALITIES: [&str; 4] = ["北京市", "上海市", "天津市", "重庆市"];
    const PROVINCE_ENDS: [&str; 3] = ["特别行政区", "自治区", "省"];
    const CITY_ENDS: [&str; 4] = ["自治州", "地区", "市", "盟"];
    for m in MUNICIPALITIES {
        if v.starts_with(m) {
            return Some(m.len());
        }
        // "北京朝阳区…" without 市.
        if let Some(short) = m.strip_suffix('市')
            && v.starts_with(short)
        {
            return Some(short.len());
        }
    }
    let province_end = PROVINCE_ENDS
        .iter()
        .filter_map(|p| v.find(p).map(|i| i + p.len()))
        .filter(|&i| i <= 30)
        .min()?;
    let rest = v.get(province_end..)?;
    if rest.starts_with("特别行政区") {
        return Some(province_end);
    }
    let city_end = CITY_ENDS
        .iter()
        .filter_map(|c| rest.find(c).map(|i| i + c.len()))
        .filter(|&i| i <= 30)
        .min();
    Some(province_end + city_end.unwrap_or(0))
}

/// Person name: keep the surname (first character; two for common compound surnames).
pub fn name(value: &str) -> String {
    const COMPOUND: [&str; 10] = [
        "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐",
    ];
    let v = value.trim();
    let chars: Vec<char> = v.chars().collect();
    if chars.is_empty() {
        return String::new();
    }
    let is_cjk = chars
        .iter()
        .all(|c| ('\u{4e00}'..='\u{9fff}').contains(c) || *c == '·');
    if !is_cjk {
        return generic(&chars);
    }
    let keep = if COMPOUND.iter().any(|s| v.starts_with(s)) && chars.len() > 2 {
        2
    } else {
        1
    };
    let mut s: String = chars.iter().take(keep).collect();
    s.push_str(&stars(chars.len().saturating_sub(keep).max(1)));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mainland_mobile_numbers() {
        assert_eq!(phone("13812345678"), "138****5678");
        assert_eq!(phone("+8613912348888"), "+86 139****8888");
        assert_eq!(phone("+86 138 1234 5678"), "+86 138****5678");
        assert_eq!(phone("199-0000-1234"), "199****1234");
    }

    #[test]
    fn landlines_and_foreign_numbers() {
        assert_eq!(phone("010-65529988"), "010****9988");
        assert_eq!(phone("0755 8888 6666"), "075*****6666");
        assert_eq!(phone("+85291234567"), "+*******4567");
        assert_eq!(phone("12"), "***");
        assert_eq!(phone(""), "");
    }

    #[test]
    fn resident_id_numbers() {
        assert_eq!(id_number("110105199003071234"), "110105********1234");
        assert_eq!(id_number("44030519851201002X"), "440305********002X");
        assert_eq!(id_number("110105900307123"), "110105******123");
    }

    #[test]
    fn bank_cards() {
        assert_eq!(bank_card("6222 0212 3456 7890 123"), "**** **** **** 0123");
        assert_eq!(bank_card("6217000010001234567"), "**** **** **** 4567");
        assert_eq!(bank_card("4000123456789010"), "**** **** **** 9010");
        assert_eq!(bank_card("1234"), "1***");
    }

    #[test]
    fn emails() {
        assert_eq!(email("zhang.san@example.com"), "z***@example.com");
        assert_eq!(email("张三@例子.中国"), "张***@例子.中国");
        assert_eq!(email("broken"), "b***");
    }

    #[test]
    fn addresses_cut_to_province_and_city() {
        assert_eq!(
            address("广东省深圳市南山区科技园科苑路15号"),
            "广东省深圳市****"
        );
        assert_eq!(address("北京市朝阳区建国路88号SOHO现代城"), "北京市****");
        assert_eq!(address("上海浦东新区世纪大道100号"), "上海****");
        assert_eq!(
            address("新疆维吾尔自治区乌鲁木齐市天山区解放北路"),
            "新疆维吾尔自治区乌鲁木齐市****"
        );
        assert_eq!(
            address("吉林省延边朝鲜族自治州延吉市光明街"),
            "吉林省延边朝鲜族自治州****"
        );
        assert_eq!(
            address("香港特别行政区中环皇后大道中"),
            "香港特别行政区****"
        );
        assert_eq!(
            address("内蒙古自治区锡林郭勒盟锡林浩特市"),
            "内蒙古自治区锡林郭勒盟****"
        );
        assert_eq!(address("1600 Amphitheatre Pkwy"), "16****");
    }

    #[test]
    fn names_keep_the_surname() {
        assert_eq!(name("张三"), "张*");
        assert_eq!(name("王小明"), "王**");
        assert_eq!(name("欧阳娜娜"), "欧阳**");
        assert_eq!(name("Alice Smith"), "A***");
    }
}
