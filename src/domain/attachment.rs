//! Attachment rules: what a file really is, whether Atrium accepts it, and the name it is kept
//! under. Pure functions on bytes; storing and serving live in `store::attachments` and
//! `http::attachments`.
//!
//! The type comes from the bytes (magic numbers via the `infer` crate, then a UTF-8 check for
//! plain text), never from the client's `Content-Type` or the file name. The name's extension must
//! then agree with the bytes, so `invoice.pdf` that is really a Windows executable is refused
//! instead of reaching an agent who trusts the icon. Only an allow-list of everyday formats is
//! accepted; SVG, HTML and XML are refused because a browser runs the scripts they carry.

use serde::{Deserialize, Serialize};

/// How the workspace shows an attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Image,
    File,
    Audio,
    Video,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Image => "image",
            Kind::File => "file",
            Kind::Audio => "audio",
            Kind::Video => "video",
        }
    }
}

/// What [`check`] found acceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The type the file is stored and served as (from the bytes, refined by the extension only
    /// where the bytes cannot tell, e.g. CSV is plain text).
    pub content_type: &'static str,
    pub kind: Kind,
    /// The cleaned file name, ending in an extension that agrees with `content_type`.
    pub safe_name: String,
}

/// Why a file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachmentError {
    #[error("the file is larger than {max} bytes")]
    TooLarge { max: u64 },
    #[error("the file is empty")]
    Empty,
    #[error("files of type {detected} are not accepted")]
    NotAllowed { detected: &'static str },
    #[error("the file name ends in .{extension} but the file is {detected}")]
    TypeMismatch {
        extension: String,
        detected: &'static str,
    },
}

/// The type reported for bytes nothing recognises.
pub const UNKNOWN_TYPE: &str = "application/octet-stream";

/// Longest file name kept, in characters (extension included).
pub const MAX_NAME_CHARS: usize = 120;

/// Name used when the client's name is empty once cleaned.
const FALLBACK_NAME: &str = "attachment";

/// One accepted format: the type the bytes sniff as, the type it is served as, and the
/// extensions a name may carry for it (the first is appended to names without one).
struct Accepted {
    sniffed: &'static str,
    served: &'static str,
    kind: Kind,
    extensions: &'static [&'static str],
}

const fn accept(
    sniffed: &'static str,
    served: &'static str,
    kind: Kind,
    extensions: &'static [&'static str],
) -> Accepted {
    Accepted {
        sniffed,
        served,
        kind,
        extensions,
    }
}

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const PPTX: &str = "application/vnd.openxmlformats-officedocument.presentationml.presentation";
const ZIP: &str = "application/zip";
const TEXT: &str = "text/plain";

/// The allow-list. Order matters only for the extension appended to a name without one.
const ACCEPTED: &[Accepted] = &[
    accept("image/png", "image/png", Kind::Image, &["png"]),
    accept(
        "image/jpeg",
        "image/jpeg",
        Kind::Image,
        &["jpg", "jpeg", "jpe", "jfif"],
    ),
    accept("image/gif", "image/gif", Kind::Image, &["gif"]),
    accept("image/webp", "image/webp", Kind::Image, &["webp"]),
    accept("application/pdf", "application/pdf", Kind::File, &["pdf"]),
    accept(DOCX, DOCX, Kind::File, &["docx"]),
    accept(XLSX, XLSX, Kind::File, &["xlsx"]),
    accept(PPTX, PPTX, Kind::File, &["pptx"]),
    accept(ZIP, ZIP, Kind::File, &["zip"]),
    // Office files are ZIP archives; `infer` names them only when the archive's first entries
    // are in the order Office writes them. Other writers' files sniff as plain ZIP, which is
    // accepted anyway, so the extension may name the Office format.
    accept(ZIP, DOCX, Kind::File, &["docx"]),
    accept(ZIP, XLSX, Kind::File, &["xlsx"]),
    accept(ZIP, PPTX, Kind::File, &["pptx"]),
    accept(TEXT, TEXT, Kind::File, &["txt", "text", "log"]),
    accept(TEXT, "text/csv", Kind::File, &["csv"]),
    accept("audio/mpeg", "audio/mpeg", Kind::Audio, &["mp3"]),
    accept("audio/amr", "audio/amr", Kind::Audio, &["amr"]),
    accept("audio/m4a", "audio/mp4", Kind::Audio, &["m4a", "mp4"]),
    accept("audio/aac", "audio/aac", Kind::Audio, &["aac"]),
    accept("audio/ogg", "audio/ogg", Kind::Audio, &["ogg", "oga"]),
    accept(
        "audio/opus",
        "audio/ogg",
        Kind::Audio,
        &["opus", "ogg", "oga"],
    ),
    accept("audio/x-wav", "audio/wav", Kind::Audio, &["wav"]),
    // MP4 is one container for video and sound; phones name sound-only files .m4a.
    accept(
        "video/mp4",
        "video/mp4",
        Kind::Video,
        &["mp4", "m4v", "m4a"],
    ),
    accept("video/x-m4v", "video/mp4", Kind::Video, &["m4v", "mp4"]),
    accept("video/webm", "video/webm", Kind::Video, &["webm"]),
];

/// Extensions that name a type a browser or desktop would run or render as a page; always
/// counted as a claim, even where `mime_guess` does not know them.
const ACTIVE_EXTENSIONS: &[&str] = &[
    "exe", "dll", "com", "scr", "pif", "bat", "cmd", "msi", "ps1", "vbs", "js", "jse", "wsf",
    "hta", "lnk", "jar", "apk", "sh", "elf", "bin", "svg", "svgz", "htm", "html", "xhtml", "xml",
    "mht", "mhtml",
];

/// The MIME type of `bytes`, from their content only; `None` when nothing matches.
///
/// Magic numbers first (`infer`); otherwise valid UTF-8 without NUL bytes is text: `image/svg+xml`
/// or `text/html` when it starts like markup, else `text/plain`.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if let Some(t) = infer::get(bytes) {
        let mime = t.mime_type();
        // An SVG with an XML declaration sniffs as XML; name it for what it is.
        if mime == "text/xml" && mentions_svg(bytes) {
            return Some("image/svg+xml");
        }
        return Some(mime);
    }
    let text = std::str::from_utf8(bytes).ok()?;
    if text.contains('\0') {
        return None;
    }
    let start = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
    let mut chars = start.chars();
    let markup = chars.next() == Some('<')
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '!' | '?' | '/'));
    if markup {
        if mentions_svg(bytes) {
            return Some("image/svg+xml");
        }
        return Some("text/html");
    }
    Some(TEXT)
}

/// Whether the first few KiB contain an `<svg` tag (any case).
fn mentions_svg(bytes: &[u8]) -> bool {
    let head = bytes.get(..4096).unwrap_or(bytes);
    head.windows(4).any(|w| w.eq_ignore_ascii_case(b"<svg"))
}

/// Check an upload: size, sniffed type against the allow-list, extension against the type.
///
/// Order of refusals: too large, empty, an extension naming an accepted format the bytes are
/// not (`TypeMismatch`), a type outside the allow-list (`NotAllowed`), any other known extension
/// that disagrees (`TypeMismatch`). A name without an extension, or with one nobody knows,
/// gets the sniffed type's extension appended.
pub fn check(name: &str, bytes: &[u8], max_bytes: u64) -> Result<Checked, AttachmentError> {
    let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if len > max_bytes {
        return Err(AttachmentError::TooLarge { max: max_bytes });
    }
    if bytes.is_empty() {
        return Err(AttachmentError::Empty);
    }
    let cleaned = safe_name(name);
    let ext = extension(&cleaned);
    let detected = sniff(bytes).unwrap_or(UNKNOWN_TYPE);
    let mismatch = |ext: &str| AttachmentError::TypeMismatch {
        extension: ext.to_string(),
        detected,
    };
    let agrees = |ext: &str| {
        ACCEPTED
            .iter()
            .find(|a| a.sniffed == detected && a.extensions.contains(&ext))
    };

    if let Some(ext) = &ext
        && ACCEPTED
            .iter()
            .any(|a| a.extensions.contains(&ext.as_str()))
        && agrees(ext).is_none()
    {
        return Err(mismatch(ext));
    }
    let Some(primary) = ACCEPTED.iter().find(|a| a.sniffed == detected) else {
        return Err(AttachmentError::NotAllowed { detected });
    };
    let (accepted, safe_name) = match &ext {
        Some(ext) => match agrees(ext) {
            Some(a) => (a, cleaned),
            None if is_known_extension(ext) => return Err(mismatch(ext)),
            None => (primary, with_extension(&cleaned, primary)),
        },
        None => (primary, with_extension(&cleaned, primary)),
    };
    Ok(Checked {
        content_type: accepted.served,
        kind: accepted.kind,
        safe_name,
    })
}

fn with_extension(name: &str, a: &Accepted) -> String {
    match a.extensions.first() {
        Some(ext) => limit_length(&format!("{name}.{ext}")),
        None => name.to_string(),
    }
}

/// Whether an extension names some type (so a disagreement is a claim, not an accident).
fn is_known_extension(ext: &str) -> bool {
    ACTIVE_EXTENSIONS.contains(&ext) || mime_guess::from_ext(ext).first().is_some()
}

/// The lower-case extension of a cleaned name: after the last dot, non-empty, at most 16
/// alphanumeric characters, with a non-empty stem before it.
pub fn extension(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    let ok = !stem.is_empty()
        && !ext.is_empty()
        && ext.chars().count() <= 16
        && ext.chars().all(|c| c.is_ascii_alphanumeric());
    ok.then(|| ext.to_ascii_lowercase())
}

/// Characters removed from names: zero-width characters and marks, bidirectional overrides,
/// embeddings and isolates (which make `invoice\u{202E}fdp.exe` display as `invoiceexe.pdf`),
/// line separators and the byte-order mark.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}'
        | '\u{2028}' | '\u{2029}' | '\u{061C}' | '\u{FEFF}')
}

/// A file name safe to store, show and offer for download: the last path component only,
/// without control or invisible characters, without characters Windows forbids, no leading
/// dot, no trailing dots or spaces, at most [`MAX_NAME_CHARS`] characters keeping the
/// extension, and never empty.
pub fn safe_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_invisible(*c))
        .map(|c| match c {
            '<' | '>' | ':' | '"' | '|' | '?' | '*' => '_',
            c => c,
        })
        .collect();
    let trimmed = cleaned
        .trim_start()
        .trim_end_matches(|c: char| c.is_whitespace() || c == '.');
    let named = if trimmed.is_empty() {
        FALLBACK_NAME.to_string()
    } else if trimmed.starts_with('.') {
        format!("{FALLBACK_NAME}{trimmed}")
    } else {
        trimmed.to_string()
    };
    limit_length(&named)
}

/// Cut a name to [`MAX_NAME_CHARS`] characters, keeping its extension.
fn limit_length(name: &str) -> String {
    if name.chars().count() <= MAX_NAME_CHARS {
        return name.to_string();
    }
    let ext = extension(name).map(|_| name.rsplit_once('.').map_or("", |(_, e)| e));
    match ext {
        Some(ext) => {
            let keep = MAX_NAME_CHARS - 1 - ext.chars().count();
            let stem: String = name.chars().take(keep).collect();
            let stem = stem.trim_end_matches(|c: char| c.is_whitespace() || c == '.');
            format!("{stem}.{ext}")
        }
        None => name.chars().take(MAX_NAME_CHARS).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    const PDF: &[u8] = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n";
    const MAX: u64 = 1 << 20;

    fn elf() -> Vec<u8> {
        let mut b = b"\x7fELF\x02\x01\x01\0".to_vec();
        b.resize(128, 0);
        b
    }

    fn pe() -> Vec<u8> {
        let mut b = b"MZ\x90\0\x03\0\0\0".to_vec();
        b.resize(128, 0);
        b
    }

    /// A ZIP with the entry order Office writes: `[Content_Types].xml`, `_rels/.rels`, then
    /// parts in the format's folder (`word/`, `xl/`, `ppt/`).
    fn office(folder: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for name in [
            "[Content_Types].xml".to_string(),
            "_rels/.rels".to_string(),
            format!("{folder}/_rels/document.xml.rels"),
            format!("{folder}/document.xml"),
        ] {
            let data = b"<?xml version=\"1.0\"?><x/>";
            out.extend_from_slice(b"PK\x03\x04");
            out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&[0; 4]); // crc (not checked by sniffing)
            let len = u32::try_from(data.len()).unwrap().to_le_bytes();
            out.extend_from_slice(&len);
            out.extend_from_slice(&len);
            out.extend_from_slice(&u16::try_from(name.len()).unwrap().to_le_bytes());
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);
        }
        out.extend_from_slice(b"PK\x05\x06");
        out.resize(out.len() + 18, 0);
        out
    }

    fn ok(name: &str, bytes: &[u8]) -> Checked {
        check(name, bytes, MAX).unwrap()
    }

    fn err(name: &str, bytes: &[u8]) -> AttachmentError {
        check(name, bytes, MAX).unwrap_err()
    }

    #[test]
    fn sniffs_by_content() {
        assert_eq!(sniff(PNG), Some("image/png"));
        assert_eq!(sniff(PDF), Some("application/pdf"));
        assert_eq!(sniff(&elf()), Some("application/x-executable"));
        assert_eq!(
            sniff(&pe()),
            Some("application/vnd.microsoft.portable-executable")
        );
        assert_eq!(sniff("你好，订单号 42\n".as_bytes()), Some("text/plain"));
        assert_eq!(sniff(b"a\0b"), None);
        assert_eq!(sniff(b"\xff\xfe\xfd"), None);
        assert_eq!(sniff(b"<svg onload=alert(1)/>"), Some("image/svg+xml"));
        assert_eq!(
            sniff(b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>"),
            Some("image/svg+xml")
        );
        assert_eq!(sniff(b"<html><script>x</script>"), Some("text/html"));
        assert_eq!(sniff(b"  <!doctype html>"), Some("text/html"));
        assert_eq!(sniff(b"<3 thanks"), Some("text/plain"));
    }

    #[test]
    fn office_documents_sniff_as_their_format() {
        assert_eq!(sniff(&office("word")), Some(DOCX));
        assert_eq!(sniff(&office("xl")), Some(XLSX));
        assert_eq!(sniff(&office("ppt")), Some(PPTX));
        let c = ok("报告.docx", &office("word"));
        assert_eq!((c.content_type, c.kind), (DOCX, Kind::File));
        assert_eq!(ok("sheet.xlsx", &office("xl")).content_type, XLSX);
        assert_eq!(ok("deck", &office("ppt")).safe_name, "deck.pptx");
    }

    #[test]
    fn accepted_formats_keep_their_names() {
        let c = ok("photo.PNG", PNG);
        assert_eq!(
            (c.content_type, c.kind, c.safe_name.as_str()),
            ("image/png", Kind::Image, "photo.PNG")
        );
        let c = ok("invoice.pdf", PDF);
        assert_eq!((c.content_type, c.kind), ("application/pdf", Kind::File));
        assert_eq!(ok("notes.txt", b"hello").content_type, "text/plain");
        assert_eq!(ok("rows.csv", b"a,b\n1,2\n").content_type, "text/csv");
    }

    #[test]
    fn missing_or_unknown_extension_gets_the_sniffed_one() {
        assert_eq!(ok("scan", PDF).safe_name, "scan.pdf");
        assert_eq!(ok("report.v2", PDF).safe_name, "report.v2.pdf");
        assert_eq!(ok("", PNG).safe_name, "attachment.png");
        assert_eq!(ok("readme", b"plain words").safe_name, "readme.txt");
    }

    #[test]
    fn a_lying_extension_is_a_type_mismatch() {
        assert_eq!(
            err("invoice.pdf", &elf()),
            AttachmentError::TypeMismatch {
                extension: "pdf".into(),
                detected: "application/x-executable"
            }
        );
        assert!(matches!(
            err("invoice.pdf", &pe()),
            AttachmentError::TypeMismatch { .. }
        ));
        assert!(matches!(
            err("invoice.pdf", &office("word")),
            AttachmentError::TypeMismatch { .. }
        ));
        assert!(matches!(
            err("photo.jpg", PNG),
            AttachmentError::TypeMismatch { .. }
        ));
        assert!(matches!(
            err("notes.txt", PDF),
            AttachmentError::TypeMismatch { .. }
        ));
        // A known extension outside the allow-list on an accepted type is a claim too.
        assert!(matches!(
            err("data.json", b"{\"a\":1}"),
            AttachmentError::TypeMismatch { .. }
        ));
        assert!(matches!(
            err("page.html", b"hello <script>alert(1)</script>"),
            AttachmentError::TypeMismatch { .. }
        ));
    }

    #[test]
    fn script_carriers_and_programs_are_not_allowed() {
        assert_eq!(
            err(
                "logo.svg",
                b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>"
            ),
            AttachmentError::NotAllowed {
                detected: "image/svg+xml"
            }
        );
        assert_eq!(
            err("page.html", b"<html><body>hi</body></html>"),
            AttachmentError::NotAllowed {
                detected: "text/html"
            }
        );
        assert!(matches!(
            err("tool.exe", &pe()),
            AttachmentError::NotAllowed { .. }
        ));
        assert_eq!(
            err("blob", &[0u8, 1, 2, 3, 0xff]),
            AttachmentError::NotAllowed {
                detected: UNKNOWN_TYPE
            }
        );
    }

    #[test]
    fn right_to_left_override_cannot_disguise_an_extension() {
        let name = "invoice\u{202E}fdp.exe";
        assert_eq!(safe_name(name), "invoicefdp.exe");
        // A real PDF under that name: the visible extension is .exe, which the bytes are not.
        assert_eq!(
            err(name, PDF),
            AttachmentError::TypeMismatch {
                extension: "exe".into(),
                detected: "application/pdf"
            }
        );
        // A real program under that name is refused for what it is.
        assert!(matches!(
            err(name, &pe()),
            AttachmentError::NotAllowed { .. }
        ));
    }

    #[test]
    fn size_limits() {
        assert_eq!(
            check("a.pdf", PDF, 10),
            Err(AttachmentError::TooLarge { max: 10 })
        );
        assert_eq!(check("a.pdf", b"", 10), Err(AttachmentError::Empty));
        let exact = u64::try_from(PDF.len()).unwrap();
        assert!(check("a.pdf", PDF, exact).is_ok());
    }

    #[test]
    fn safe_names() {
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name("C:\\Users\\li\\报价单.pdf"), "报价单.pdf");
        assert_eq!(safe_name("a\u{0}b\u{7}c\r\n.txt"), "abc.txt");
        assert_eq!(
            safe_name("zero\u{200B}\u{200D}\u{FEFF}width.png"),
            "zerowidth.png"
        );
        assert_eq!(safe_name("iso\u{2066}late\u{2069}.png"), "isolate.png");
        assert_eq!(safe_name("what?.pdf"), "what_.pdf");
        assert_eq!(safe_name(".bashrc"), "attachment.bashrc");
        assert_eq!(safe_name("report.pdf. . "), "report.pdf");
        for empty in ["", "/", "..", "\u{202E}", "  ", "dir/"] {
            assert_eq!(safe_name(empty), "attachment", "{empty:?}");
        }
        let long = format!("{}.pdf", "长".repeat(300));
        let cut = safe_name(&long);
        assert_eq!(cut.chars().count(), MAX_NAME_CHARS);
        assert!(cut.ends_with("长.pdf"));
        let no_ext = "x".repeat(500);
        assert_eq!(safe_name(&no_ext).chars().count(), MAX_NAME_CHARS);
        // An appended extension still fits.
        let c = ok(&"y".repeat(200), PDF);
        assert_eq!(c.safe_name.chars().count(), MAX_NAME_CHARS);
        assert!(c.safe_name.ends_with(".pdf"));
    }

    #[test]
    fn extensions() {
        assert_eq!(extension("a.PDF").as_deref(), Some("pdf"));
        assert_eq!(extension("a.tar.gz").as_deref(), Some("gz"));
        assert_eq!(extension("noext"), None);
        assert_eq!(extension("attachment.bashrc").as_deref(), Some("bashrc"));
        assert_eq!(extension("a.b c"), None);
    }
}
