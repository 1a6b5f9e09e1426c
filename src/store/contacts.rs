//! Contacts, conversations and messages: encrypted on the way in, decrypted on the way out.
//!
//! Every PII column and message body is a field ciphertext bound to its `table/column/id`;
//! phone and e-mail also get a blind index for lookups. Callers allocate ids first
//! ([`super::Store::next_id`]) so the binding is known before the row exists.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::error::Result;
use crate::crypto::blind::BlindKind;
use crate::crypto::{FieldRef, Keyring};
use crate::domain::access::Scope;
use crate::domain::contact::clean_name;
use crate::domain::{
    Contact, ContactDraft, ContactId, Conversation, ConversationId, ConversationStatus, Direction,
    Message, MessageId,
};

const CONTACTS: &str = "contacts";
const MESSAGES: &str = "messages";

/// The largest id in any table, so new ids start above it.
pub fn max_id(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT max(
            (SELECT coalesce(max(id), 0) FROM contacts),
            (SELECT coalesce(max(id), 0) FROM conversations),
            (SELECT coalesce(max(id), 0) FROM messages),
            (SELECT coalesce(max(id), 0) FROM contact_identities),
            (SELECT coalesce(max(id), 0) FROM attachments),
            (SELECT coalesce(max(id), 0) FROM outbox),
            (SELECT coalesce(max(id), 0) FROM canned_replies))",
        [],
        |r| r.get(0),
    )?)
}

fn seal(ring: &Keyring, column: &'static str, id: i64, v: Option<&String>) -> Option<Vec<u8>> {
    v.map(|s| {
        if column == "name" {
            ring.encrypt_str(FieldRef::new(CONTACTS, column, id), &clean_name(s))
        } else {
            ring.encrypt_str(FieldRef::new(CONTACTS, column, id), s)
        }
    })
}

fn open(
    ring: &Keyring,
    column: &'static str,
    id: i64,
    v: Option<Vec<u8>>,
) -> Result<Option<String>> {
    Ok(match v {
        Some(ct) => Some(ring.decrypt_string(FieldRef::new(CONTACTS, column, id), &ct)?),
        None => None,
    })
}

pub fn insert_contact(
    conn: &Connection,
    ring: &Keyring,
    id: ContactId,
    c: &ContactDraft,
    now: i64,
) -> Result<()> {
    let i = id.0;
    conn.prepare_cached(
        "INSERT INTO contacts (id, name, phone, phone_bidx, email, email_bidx, id_number, address,
                               created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
    )?
    .execute(params![
        i,
        seal(ring, "name", i, c.name.as_ref()),
        seal(ring, "phone", i, c.phone.as_ref()),
        c.phone
            .as_deref()
            .and_then(|p| ring.blind_index(BlindKind::Phone, p)),
        seal(ring, "email", i, c.email.as_ref()),
        c.email
            .as_deref()
            .and_then(|e| ring.blind_index(BlindKind::Email, e)),
        seal(ring, "id_number", i, c.id_number.as_ref()),
        seal(ring, "address", i, c.address.as_ref()),
        now,
    ])?;
    Ok(())
}

fn contact_from_row(ring: &Keyring, r: &Row<'_>) -> Result<Contact> {
    let id: i64 = r.get(0)?;
    Ok(Contact {
        id: ContactId(id),
        fields: ContactDraft {
            name: open(ring, "name", id, r.get(1)?)?,
            phone: open(ring, "phone", id, r.get(2)?)?,
            email: open(ring, "email", id, r.get(3)?)?,
            id_number: open(ring, "id_number", id, r.get(4)?)?,
            address: open(ring, "address", id, r.get(5)?)?,
        },
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

const CONTACT_COLUMNS: &str = "id, name, phone, email, id_number, address, created_at, updated_at";

pub fn get_contact(conn: &Connection, ring: &Keyring, id: ContactId) -> Result<Option<Contact>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts WHERE id = ?1"
    ))?;
    let mut rows = stmt.query([id.0])?;
    match rows.next()? {
        Some(r) => Ok(Some(contact_from_row(ring, r)?)),
        None => Ok(None),
    }
}

/// Contacts whose phone normalises to the same E.164 number (blind-index lookup).
pub fn find_by_phone(conn: &Connection, ring: &Keyring, phone: &str) -> Result<Vec<ContactId>> {
    let Some(bidx) = ring.blind_index(BlindKind::Phone, phone) else {
        return Ok(Vec::new());
    };
    let mut stmt = conn.prepare_cached("SELECT id FROM contacts WHERE phone_bidx = ?1")?;
    let ids = stmt.query_map([bidx], |r| r.get(0).map(ContactId))?;
    Ok(ids.collect::<rusqlite::Result<_>>()?)
}

pub fn insert_conversation(
    conn: &Connection,
    id: ConversationId,
    contact: ContactId,
    now: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO conversations (id, contact_id, status, created_at, updated_at)
         VALUES (?1, ?2, 'open', ?3, ?3)",
    )?
    .execute(params![id.0, contact.0, now])?;
    Ok(())
}

const CONVERSATION_COLUMNS: &str =
    "id, contact_id, status, created_at, updated_at, inbox_id, team_id";

fn conversation(r: &Row<'_>) -> rusqlite::Result<Conversation> {
    Ok(Conversation {
        id: ConversationId(r.get(0)?),
        contact_id: ContactId(r.get(1)?),
        status: ConversationStatus::parse(&r.get::<_, String>(2)?)
            .unwrap_or(ConversationStatus::Open),
        created_at: r.get(3)?,
        updated_at: r.get(4)?,
        inbox_id: r.get(5)?,
        team_id: r.get(6)?,
    })
}

pub fn get_conversation(conn: &Connection, id: ConversationId) -> Result<Option<Conversation>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = ?1"
        ))?
        .query_row([id.0], conversation)
        .optional()?)
}

/// Put a conversation in an inbox and route it to a team (what data scopes match on).
pub fn place_conversation(
    conn: &Connection,
    id: ConversationId,
    inbox: Option<i64>,
    team: Option<i64>,
) -> Result<()> {
    conn.prepare_cached("UPDATE conversations SET inbox_id = ?2, team_id = ?3 WHERE id = ?1")?
        .execute(params![id.0, inbox, team])?;
    Ok(())
}

/// The scope condition as SQL over `inbox_id`/`team_id`, with its two JSON-array arguments.
pub(crate) fn scope_args(scope: &Scope) -> (bool, String, String) {
    match scope {
        Scope::All => (true, "[]".into(), "[]".into()),
        Scope::Limited { teams, inboxes } => (
            false,
            serde_json::to_string(inboxes).unwrap_or_else(|_| "[]".into()),
            serde_json::to_string(teams).unwrap_or_else(|_| "[]".into()),
        ),
    }
}

const IN_SCOPE: &str = "(?1 OR inbox_id IN (SELECT value FROM json_each(?2))
                          OR team_id IN (SELECT value FROM json_each(?3)))";

/// The newest conversations within `scope`, at most `limit`.
pub fn list_conversations(
    conn: &Connection,
    scope: &Scope,
    limit: u32,
) -> Result<Vec<Conversation>> {
    let (all, inboxes, teams) = scope_args(scope);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE {IN_SCOPE}
         ORDER BY updated_at DESC, id DESC LIMIT ?4"
    ))?;
    let rows = stmt.query_map(params![all, inboxes, teams, limit], conversation)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Whether the contact has a conversation within `scope` or assigned to `user` (an agent
/// sees the customer of a conversation transferred to them from outside their scope).
pub fn contact_in_scope(
    conn: &Connection,
    contact: ContactId,
    scope: &Scope,
    user: i64,
) -> Result<bool> {
    let (all, inboxes, teams) = scope_args(scope);
    Ok(conn
        .prepare_cached(&format!(
            "SELECT EXISTS (SELECT 1 FROM conversations WHERE contact_id = ?4
                 AND ({IN_SCOPE} OR assignee_id = ?5))"
        ))?
        .query_row(params![all, inboxes, teams, contact.0, user], |r| r.get(0))?)
}

/// Whether every conversation of the contact is within `scope` (who may merge or split a
/// contact changes all of its conversations).
pub fn contact_wholly_in_scope(
    conn: &Connection,
    contact: ContactId,
    scope: &Scope,
) -> Result<bool> {
    let (all, inboxes, teams) = scope_args(scope);
    Ok(conn
        .prepare_cached(&format!(
            "SELECT NOT EXISTS (SELECT 1 FROM conversations WHERE contact_id = ?4
                 AND NOT {IN_SCOPE})"
        ))?
        .query_row(params![all, inboxes, teams, contact.0], |r| r.get(0))?)
}

pub fn insert_message(
    conn: &Connection,
    ring: &Keyring,
    id: MessageId,
    conversation: ConversationId,
    direction: Direction,
    body: &str,
    now: i64,
) -> Result<()> {
    let ct = ring.encrypt_str(FieldRef::new(MESSAGES, "body", id.0), body);
    conn.prepare_cached(
        "INSERT INTO messages (id, conversation_id, direction, body, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![id.0, conversation.0, direction.as_str(), ct, now])?;
    conn.prepare_cached("UPDATE conversations SET updated_at = ?2 WHERE id = ?1")?
        .execute(params![conversation.0, now])?;
    Ok(())
}

/// Messages of a conversation, oldest first, at most `limit`.
pub fn list_messages(
    conn: &Connection,
    ring: &Keyring,
    conversation: ConversationId,
    limit: u32,
) -> Result<Vec<Message>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, direction, body, created_at FROM messages
         WHERE conversation_id = ?1 ORDER BY id LIMIT ?2",
    )?;
    let mut rows = stmt.query(params![conversation.0, limit])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let ct: Vec<u8> = r.get(2)?;
        out.push(Message {
            id: MessageId(id),
            conversation_id: conversation,
            direction: Direction::parse(&r.get::<_, String>(1)?).unwrap_or(Direction::System),
            body: ring.decrypt_string(FieldRef::new(MESSAGES, "body", id), &ct)?,
            created_at: r.get(3)?,
        });
    }
    Ok(out)
}

/// Number of messages stored (used by durability checks and metrics).
pub fn count_messages(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM messages", [], |r| r.get(0))?)
}

/// A contact's VIP flag and custom attributes (decrypted JSON object).
pub fn extra(
    conn: &Connection,
    ring: &Keyring,
    id: ContactId,
) -> Result<Option<(bool, serde_json::Value)>> {
    let row: Option<(bool, Option<Vec<u8>>)> = conn
        .prepare_cached("SELECT vip, attributes FROM contacts WHERE id = ?1")?
        .query_row([id.0], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((vip, attrs)) = row else {
        return Ok(None);
    };
    let attrs = match attrs {
        Some(ct) => {
            let s = ring.decrypt_string(FieldRef::new(CONTACTS, "attributes", id.0), &ct)?;
            serde_json::from_str(&s).unwrap_or_else(|_| serde_json::json!({}))
        }
        None => serde_json::json!({}),
    };
    Ok(Some((vip, attrs)))
}

/// Replace the name, phone and e-mail a channel gives (each only when `Some`; with
/// `only_empty`, only where the contact has none yet), with the phone's and e-mail's blind
/// indexes. Returns the names of the fields written.
pub fn set_reachability(
    conn: &Connection,
    ring: &Keyring,
    id: ContactId,
    d: &ContactDraft,
    only_empty: bool,
    now: i64,
) -> Result<Vec<&'static str>> {
    let mut written = Vec::new();
    let only = |column: &str| {
        if only_empty {
            format!(" AND {column} IS NULL")
        } else {
            String::new()
        }
    };
    if let Some(n) = &d.name {
        let sql = format!(
            "UPDATE contacts SET name = ?2 WHERE id = ?1{}",
            only("name")
        );
        if conn
            .prepare_cached(&sql)?
            .execute(params![id.0, seal(ring, "name", id.0, Some(n))])?
            > 0
        {
            written.push("name");
        }
    }
    if let Some(p) = &d.phone {
        let sql = format!(
            "UPDATE contacts SET phone = ?2, phone_bidx = ?3 WHERE id = ?1{}",
            only("phone")
        );
        if conn.prepare_cached(&sql)?.execute(params![
            id.0,
            seal(ring, "phone", id.0, Some(p)),
            ring.blind_index(BlindKind::Phone, p)
        ])? > 0
        {
            written.push("phone");
        }
    }
    if let Some(e) = &d.email {
        let sql = format!(
            "UPDATE contacts SET email = ?2, email_bidx = ?3 WHERE id = ?1{}",
            only("email")
        );
        if conn.prepare_cached(&sql)?.execute(params![
            id.0,
            seal(ring, "email", id.0, Some(e)),
            ring.blind_index(BlindKind::Email, e)
        ])? > 0
        {
            written.push("email");
        }
    }
    if !written.is_empty() {
        conn.prepare_cached("UPDATE contacts SET updated_at = ?2 WHERE id = ?1")?
            .execute(params![id.0, now])?;
    }
    Ok(written)
}

/// Change what an agent may edit: name, VIP flag, custom attributes (each optional).
pub fn update_profile(
    conn: &Connection,
    ring: &Keyring,
    id: ContactId,
    name: Option<&str>,
    vip: Option<bool>,
    attributes: Option<&serde_json::Value>,
    now: i64,
) -> Result<()> {
    if let Some(n) = name {
        let ct = ring.encrypt_str(FieldRef::new(CONTACTS, "name", id.0), &clean_name(n));
        conn.prepare_cached("UPDATE contacts SET name = ?2 WHERE id = ?1")?
            .execute(params![id.0, ct])?;
    }
    if let Some(v) = vip {
        conn.prepare_cached("UPDATE contacts SET vip = ?2 WHERE id = ?1")?
            .execute(params![id.0, v])?;
    }
    if let Some(a) = attributes {
        let ct = ring.encrypt_str(FieldRef::new(CONTACTS, "attributes", id.0), &a.to_string());
        conn.prepare_cached("UPDATE contacts SET attributes = ?2 WHERE id = ?1")?
            .execute(params![id.0, ct])?;
    }
    conn.prepare_cached("UPDATE contacts SET updated_at = ?2 WHERE id = ?1")?
        .execute(params![id.0, now])?;
    Ok(())
}

/// One row of the contact directory: the contact (decrypted) with its VIP flag, its newest
/// activity and how many of its conversations the caller may see.
#[derive(Debug, Clone)]
pub struct DirectoryRow {
    pub contact: Contact,
    pub vip: bool,
    pub last_activity_at: i64,
    pub conversations: i64,
}

/// What the contact directory lists.
#[derive(Debug, Clone, Default)]
pub struct DirectoryQuery {
    /// Only these contacts (an exact phone, e-mail or id match); `None`: every contact.
    pub only: Option<Vec<i64>>,
    /// Page after this `(last_activity_at, id)`, newest first.
    pub after: Option<(i64, i64)>,
    pub limit: u32,
}

/// Live (not merged, not deleted) contacts with a conversation in `scope` or assigned to `me`,
/// newest activity first.
pub fn directory(
    conn: &Connection,
    ring: &Keyring,
    scope: &Scope,
    me: i64,
    q: &DirectoryQuery,
) -> Result<Vec<DirectoryRow>> {
    let (all, inboxes, teams) = scope_args(scope);
    let only = q
        .only
        .as_ref()
        .map(|ids| serde_json::to_string(ids).unwrap_or_else(|_| "[]".into()));
    let (after_at, after_id) = q.after.unwrap_or((i64::MAX, i64::MAX));
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT c.id, c.name, c.phone, c.email, c.id_number, c.address, c.created_at,
                c.updated_at, c.vip, a.last, a.n
         FROM contacts c
         JOIN (SELECT contact_id, max(last_activity_at) AS last, count(*) AS n
               FROM conversations WHERE {IN_SCOPE} OR assignee_id = ?4
               GROUP BY contact_id) a ON a.contact_id = c.id
         WHERE c.merged_into IS NULL AND c.deleted_at IS NULL
           AND (?5 IS NULL OR c.id IN (SELECT value FROM json_each(?5)))
           AND (a.last < ?6 OR (a.last = ?6 AND c.id < ?7))
         ORDER BY a.last DESC, c.id DESC LIMIT ?8"
    ))?;
    let mut rows = stmt.query(params![
        all, inboxes, teams, me, only, after_at, after_id, q.limit
    ])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(DirectoryRow {
            contact: contact_from_row(ring, r)?,
            vip: r.get(8)?,
            last_activity_at: r.get(9)?,
            conversations: r.get(10)?,
        });
    }
    Ok(out)
}

/// Contacts whose e-mail is `email` (blind-index lookup, case-insensitive).
pub fn find_by_email(conn: &Connection, ring: &Keyring, email: &str) -> Result<Vec<ContactId>> {
    let Some(bidx) = ring.blind_index(BlindKind::Email, email) else {
        return Ok(Vec::new());
    };
    let mut stmt = conn.prepare_cached("SELECT id FROM contacts WHERE email_bidx = ?1")?;
    let ids = stmt.query_map([bidx], |r| r.get(0).map(ContactId))?;
    Ok(ids.collect::<rusqlite::Result<_>>()?)
}
