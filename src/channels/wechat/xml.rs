//! WeChat's XML, read safely: a document type declaration (the door to XXE and "billion
//! laughs") is refused outright, only the five predefined entities and character references
//! are resolved, and size, depth and element counts are bounded. What comes out is flat: each
//! element under the root `<xml>` by name, nested ones as `Parent.Child` (first occurrence
//! wins). CDATA is kept verbatim; text outside CDATA is trimmed.

use std::collections::BTreeMap;

use quick_xml::Reader;
use quick_xml::events::Event;

/// Largest document accepted (WeChat's pushes are a few hundred bytes).
pub const MAX_XML: usize = 256 * 1024;
const MAX_DEPTH: usize = 8;
const MAX_ELEMENTS: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("document type declarations are not accepted")]
    Doctype,
    #[error("unknown entity reference &{0};")]
    Entity(String),
    #[error("the document is larger than {MAX_XML} bytes")]
    TooLarge,
    #[error("the document nests or repeats elements beyond the limits")]
    TooComplex,
    #[error("the root element must be <xml>")]
    Root,
    #[error("malformed XML: {0}")]
    Malformed(String),
}

/// The elements of a WeChat XML document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields(pub BTreeMap<String, String>);

impl Fields {
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }

    /// The value, or empty.
    pub fn str(&self, k: &str) -> &str {
        self.get(k).unwrap_or("")
    }
}

/// Parse a WeChat XML document.
pub fn parse(doc: &str) -> Result<Fields, XmlError> {
    if doc.len() > MAX_XML {
        return Err(XmlError::TooLarge);
    }
    let mut r = Reader::from_str(doc);
    let mut path: Vec<String> = Vec::new();
    let mut out = BTreeMap::new();
    let mut text = String::new();
    // Whether the element's text had a CDATA section (kept verbatim) beside plain text.
    let mut cdata_seen = false;
    let mut elements = 0usize;
    let mut seen_root = false;
    let bad = |e: &dyn std::fmt::Display| XmlError::Malformed(e.to_string());
    loop {
        match r.read_event().map_err(|e| bad(&e))? {
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Start(e) => {
                elements += 1;
                if path.len() >= MAX_DEPTH || elements > MAX_ELEMENTS {
                    return Err(XmlError::TooComplex);
                }
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if path.is_empty() {
                    if seen_root || name != "xml" {
                        return Err(XmlError::Root);
                    }
                    seen_root = true;
                }
                path.push(name);
                text.clear();
                cdata_seen = false;
            }
            Event::Empty(e) => {
                elements += 1;
                if path.is_empty() || elements > MAX_ELEMENTS {
                    return Err(XmlError::Root);
                }
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                let key = key(path.get(1..).unwrap_or_default(), &name);
                out.entry(key).or_insert_with(String::new);
            }
            Event::Text(t) => {
                let s = t.decode().map_err(|e| bad(&e))?;
                // Layout whitespace around a CDATA section is not part of the value.
                if !(s.trim().is_empty() && (cdata_seen || text.is_empty())) {
                    text.push_str(&s);
                }
            }
            Event::CData(t) => {
                let s = t.decode().map_err(|e| bad(&e))?;
                if !cdata_seen {
                    // Whitespace before the first CDATA section is layout.
                    text = text.trim_start().to_string();
                }
                cdata_seen = true;
                text.push_str(&s);
            }
            Event::GeneralRef(g) => {
                if let Some(c) = g.resolve_char_ref().map_err(|e| bad(&e))? {
                    text.push(c);
                } else {
                    let name = g.decode().map_err(|e| bad(&e))?;
                    match quick_xml::escape::resolve_predefined_entity(&name) {
                        Some(v) => text.push_str(v),
                        None => return Err(XmlError::Entity(name.into_owned())),
                    }
                }
            }
            Event::End(_) => {
                let Some(name) = path.pop() else {
                    return Err(XmlError::Root);
                };
                if !path.is_empty() {
                    let key = key(path.get(1..).unwrap_or_default(), &name);
                    let value = std::mem::take(&mut text);
                    // Plain text is trimmed as a whole; CDATA content is kept as it is.
                    let value = if cdata_seen {
                        value
                    } else {
                        value.trim().to_string()
                    };
                    out.entry(key).or_insert(value);
                }
                text.clear();
                cdata_seen = false;
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if !seen_root || !path.is_empty() {
        return Err(XmlError::Root);
    }
    Ok(Fields(out))
}

fn key(parents: &[String], name: &str) -> String {
    if parents.is_empty() {
        name.to_string()
    } else {
        format!("{}.{name}", parents.join("."))
    }
}

/// Escape text for a CDATA section (a `]]>` inside is split across two sections).
pub fn cdata(s: &str) -> String {
    format!("<![CDATA[{}]]>", s.replace("]]>", "]]]]><![CDATA[>"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdata_and_plain_text_and_nesting() {
        let f = parse(
            "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><MsgType>  <![CDATA[video]]></MsgType>\
             <CreateTime> 123 </CreateTime><Content><![CDATA[ a & b ]]></Content>\
             <T>x &amp; &#x4e2d;</T><ScanCodeInfo><ScanType>qrcode</ScanType></ScanCodeInfo><E/></xml>",
        )
        .unwrap();
        assert_eq!(f.str("ToUserName"), "gh_1");
        assert_eq!(f.str("MsgType"), "video");
        assert_eq!(f.str("CreateTime"), "123");
        assert_eq!(f.str("Content"), " a & b ");
        assert_eq!(f.str("T"), "x & 中");
        assert_eq!(f.str("ScanCodeInfo.ScanType"), "qrcode");
        assert_eq!(f.get("E"), Some(""));
    }

    #[test]
    fn unsafe_or_broken_documents_are_refused() {
        assert_eq!(parse("<a></a>"), Err(XmlError::Root));
        assert!(parse("<xml><a></xml>").is_err());
        assert_eq!(
            parse("<xml><a>&ext;</a></xml>"),
            Err(XmlError::Entity("ext".into()))
        );
        let deep = format!("<xml>{}{}</xml>", "<a>".repeat(20), "</a>".repeat(20));
        assert_eq!(parse(&deep), Err(XmlError::TooComplex));
        assert_eq!(parse(&" ".repeat(MAX_XML + 1)), Err(XmlError::TooLarge));
        assert!(parse("").is_err());
    }
}
