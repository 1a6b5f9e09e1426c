//! `identify`: a channel that knows its customer (the open API channel's customer system, a
//! signed-in website visitor) creates or updates the contact before or between messages.
//!
//! The contact is found exactly as `ingest` finds a message's sender — the channel's own id,
//! then verified global ids (phone, e-mail, unionid), merging contacts a verified id proves to be
//! one person — and created when none matches. For the inbox's own customer (created now, or
//! already known by this inbox's id) the fields given replace the stored ones — the channel's
//! system is the source of truth for its own users — custom attributes are merged key by key and
//! the VIP flag is set. A contact reached only through a verified global id (another channel's
//! customer, linked now) is only completed: empty fields are filled and new attribute keys
//! added, nothing another channel set is overwritten, and its VIP flag is left alone. Audited
//! as `contact.identify`.

use serde_json::{Map, Value};

use super::{Engine, Error, Result};
use crate::audit::{Actor, Entry};
use crate::domain::{ContactDraft, ContactId, IdentityClaim};
use crate::store::{audit as audit_log, contacts, identities};

/// Most custom attributes a contact keeps, and the longest key and text value.
pub const MAX_ATTRIBUTES: usize = 50;
const MAX_ATTRIBUTE_KEY: usize = 40;
const MAX_ATTRIBUTE_TEXT: usize = 500;

/// What a channel says about its customer.
#[derive(Debug, Clone)]
pub struct Identify {
    pub inbox_id: i64,
    pub identities: Vec<IdentityClaim>,
    /// `name`, `phone`, `email`: set when given (`id_number` and `address` are not taken).
    pub profile: ContactDraft,
    pub vip: Option<bool>,
    /// Merged into the stored attributes; a `null` value removes the key.
    pub attributes: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identified {
    pub contact_id: ContactId,
    pub created: bool,
}

/// Attribute values are short scalars under short keys.
pub fn check_attributes(a: &Map<String, Value>) -> std::result::Result<(), String> {
    let ok = a.iter().all(|(k, v)| {
        !k.trim().is_empty()
            && k.chars().count() <= MAX_ATTRIBUTE_KEY
            && (v.is_number()
                || v.is_boolean()
                || v.is_null()
                || v.as_str()
                    .is_some_and(|s| s.chars().count() <= MAX_ATTRIBUTE_TEXT))
    });
    if ok && a.len() <= MAX_ATTRIBUTES {
        Ok(())
    } else {
        Err(format!(
            "attributes must be at most {MAX_ATTRIBUTES} fields, keys of 1 to {MAX_ATTRIBUTE_KEY} characters, values numbers, booleans, null or text up to {MAX_ATTRIBUTE_TEXT} characters"
        ))
    }
}

impl Engine {
    /// Create or update the contact a channel identifies; see the module documentation.
    pub async fn identify(&self, req: Identify) -> Result<Identified> {
        super::ingest::validate_identities(&req.identities)?;
        let draft = ContactDraft {
            name: req.profile.name.clone(),
            phone: req.profile.phone.clone(),
            email: req.profile.email.clone(),
            id_number: None,
            address: None,
        };
        if let Some(p) = draft.validate().into_iter().next() {
            return Err(Error::Invalid(p));
        }
        if let Some(a) = &req.attributes {
            check_attributes(a).map_err(Error::Invalid)?;
        }
        let inbox = self.inbox(req.inbox_id).await?;
        if inbox.disabled {
            return Err(Error::InboxDisabled(inbox.id));
        }
        let new_contact = ContactId(self.store.next_id());
        let identity_ids: Vec<i64> = req
            .identities
            .iter()
            .map(|_| self.store.next_id())
            .collect();
        let now = self.now();
        let out = self
            .store
            .write(move |c, ring| {
                // Whose this inbox's own id was before this call.
                let mut own_before = None;
                for claim in req.identities.iter().filter(|c| c.kind.per_inbox()) {
                    if let Some(f) = identities::find(c, ring, req.inbox_id, claim)? {
                        own_before = f.live;
                        break;
                    }
                }
                let (contact, _) = super::ingest::resolve_contact(
                    c,
                    ring,
                    req.inbox_id,
                    &req.identities,
                    &draft,
                    (new_contact, &identity_ids),
                    now,
                )?;
                let created = contact == new_contact;
                let own = created || own_before == Some(contact);
                let mut fields: Vec<&str> = Vec::new();
                if !created {
                    fields.extend(contacts::set_reachability(
                        c, ring, contact, &draft, !own, now,
                    )?);
                }
                let attributes = match &req.attributes {
                    Some(given) if !given.is_empty() => {
                        let (_, stored) = contacts::extra(c, ring, contact)?.unwrap_or_default();
                        let mut merged = stored.as_object().cloned().unwrap_or_default();
                        for (k, v) in given {
                            if !own && merged.contains_key(k) {
                                continue;
                            }
                            if v.is_null() {
                                merged.remove(k);
                            } else {
                                merged.insert(k.clone(), v.clone());
                            }
                        }
                        if merged.len() > MAX_ATTRIBUTES {
                            return Err(super::abort(Error::Invalid(format!(
                                "a contact keeps at most {MAX_ATTRIBUTES} attributes"
                            ))));
                        }
                        fields.push("attributes");
                        Some(Value::Object(merged))
                    }
                    _ => None,
                };
                let vip = req.vip.filter(|_| own);
                if vip.is_some() {
                    fields.push("vip");
                }
                if vip.is_some() || attributes.is_some() {
                    contacts::update_profile(
                        c,
                        ring,
                        contact,
                        None,
                        vip,
                        attributes.as_ref(),
                        now,
                    )?;
                }
                let e = Entry::new(
                    &Actor::system(),
                    "contact.identify",
                    format!("contact:{}", contact.0),
                )
                .details(serde_json::json!({
                    "inbox_id": req.inbox_id, "created": created, "own": own, "fields": fields,
                }));
                audit_log::append(c, ring, now, &e)?;
                let events = if created || !fields.is_empty() {
                    super::events::contact_updated(c, ring, contact, Some(req.inbox_id), now)?
                } else {
                    0
                };
                Ok((
                    Identified {
                        contact_id: contact,
                        created,
                    },
                    events,
                ))
            })
            .await?;
        self.events_queued(out.1);
        Ok(out.0)
    }
}
