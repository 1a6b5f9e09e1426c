//! Normalisation for blind indexes: equal values must give equal bytes before the HMAC.
//!
//! - phones become E.164 (`+8613812345678`); mainland numbers written without a country code
//!   (mobile `138 1234 5678`, landline `010-6552 9988`) are taken as +86;
//! - e-mail addresses are trimmed and lower-cased;
//! - external ids (openid, unionid, visitor ids) are used exactly as given.

/// What kind of value a blind index is for; part of the HMAC input as a domain separator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlindKind {
    Phone,
    Email,
    ExternalId,
}

impl BlindKind {
    pub fn domain(self) -> &'static str {
        match self {
            BlindKind::Phone => "phone",
            BlindKind::Email => "email",
            BlindKind::ExternalId => "external_id",
        }
    }
}

/// The normalised form of `value`, or `None` when nothing usable is left.
pub fn normalise(kind: BlindKind, value: &str) -> Option<String> {
    match kind {
        BlindKind::Phone => normalise_phone(value),
        BlindKind::Email => {
            let v = value.trim().to_lowercase();
            (v.contains('@') && v.len() > 2).then_some(v)
        }
        BlindKind::ExternalId => (!value.is_empty()).then(|| value.to_string()),
    }
}

/// E.164 form of a phone number, mainland China as the default region.
pub fn normalise_phone(value: &str) -> Option<String> {
    let trimmed = value.trim();
    let plus = trimmed.starts_with('+') || trimmed.starts_with('＋');
    // Full-width digits (１３８…) are common in pasted Chinese text.
    let digits: String = trimmed
        .chars()
        .filter_map(|c| match c {
            '0'..='9' => Some(c),
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
            _ => None,
        })
        .collect();
    if digits.len() < 5 || digits.len() > 17 {
        return None;
    }
    let e164 = if plus {
        format!("+{digits}")
    } else if let Some(rest) = digits.strip_prefix("00") {
        format!("+{rest}")
    } else if digits.len() == 11 && digits.starts_with('1') {
        format!("+86{digits}")
    } else if digits.len() == 13 && digits.starts_with("861") {
        format!("+{digits}")
    } else if let Some(rest) = digits.strip_prefix('0') {
        // Landline with trunk prefix and area code: 010-65529988 → +861065529988.
        format!("+86{rest}")
    } else {
        // A local number without area code cannot be made global; index the digits as given.
        digits
    };
    Some(e164)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mainland_phone_formats_normalise_to_e164() {
        for v in [
            "13812345678",
            "138 1234 5678",
            "138-1234-5678",
            "+86 138 1234 5678",
            "+86-13812345678",
            "8613812345678",
            "008613812345678",
            "（+86）138 1234 5678",
            "１３８１２３４５６７８",
        ] {
            assert_eq!(normalise_phone(v).as_deref(), Some("+8613812345678"), "{v}");
        }
        assert_eq!(
            normalise_phone("010-6552 9988").as_deref(),
            Some("+861065529988")
        );
        assert_eq!(
            normalise_phone("(0755) 8888-6666").as_deref(),
            Some("+8675588886666")
        );
        assert_eq!(
            normalise_phone("+852 9123 4567").as_deref(),
            Some("+85291234567")
        );
        assert_eq!(
            normalise_phone("+1 (415) 555-0100").as_deref(),
            Some("+14155550100")
        );
        assert_eq!(normalise_phone("12"), None);
        assert_eq!(normalise_phone("no phone"), None);
    }

    #[test]
    fn email_is_trimmed_and_lowercased() {
        assert_eq!(
            normalise(BlindKind::Email, "  Li.Si@Example.COM ").as_deref(),
            Some("li.si@example.com")
        );
        assert_eq!(normalise(BlindKind::Email, "not-an-email"), None);
    }

    #[test]
    fn external_ids_are_raw() {
        let openid = "oLVPpjqs9BhvzwPj5A-vTYAX3GLc";
        assert_eq!(
            normalise(BlindKind::ExternalId, openid).as_deref(),
            Some(openid)
        );
        assert_eq!(normalise(BlindKind::ExternalId, ""), None);
    }
}
