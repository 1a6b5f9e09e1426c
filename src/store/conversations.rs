//! Conversation state the engine works with: placement (inbox, team, assignee), status,
//! priority, labels, queue and response timers, and each agent's read/pin marks; plus the
//! summary rows the workspace lists.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::error::Result;
use crate::crypto::{FieldRef, Keyring};
use crate::domain::access::Scope;
use crate::domain::{ContactId, ConversationId, ConversationStatus, Direction, MessageKind};

/// The engine's working view of one conversation row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvRow {
    pub id: ConversationId,
    pub contact_id: ContactId,
    pub inbox_id: Option<i64>,
    pub team_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub status: ConversationStatus,
    pub priority: i64,
    pub labels: Vec<String>,
    pub waiting_since: Option<i64>,
    pub first_response_at: Option<i64>,
    pub queued_at: Option<i64>,
    pub last_agent_id: Option<i64>,
    pub alert: Option<String>,
    pub snoozed_until: Option<i64>,
    pub auto_replied: bool,
    pub last_activity_at: i64,
    pub created_at: i64,
    /// The per-inbox identity the customer wrote through (replies go to it).
    pub identity_id: Option<i64>,
    /// When the current assignee got it.
    pub assigned_at: Option<i64>,
}

const ROW_COLUMNS: &str = "id, contact_id, inbox_id, team_id, assignee_id, status, priority, \
     labels, waiting_since, first_response_at, queued_at, last_agent_id, alert, snoozed_until, \
     auto_replied, last_activity_at, created_at, identity_id, assigned_at";

fn conv_row(r: &Row<'_>) -> rusqlite::Result<ConvRow> {
    Ok(ConvRow {
        id: ConversationId(r.get(0)?),
        contact_id: ContactId(r.get(1)?),
        inbox_id: r.get(2)?,
        team_id: r.get(3)?,
        assignee_id: r.get(4)?,
        status: ConversationStatus::parse(&r.get::<_, String>(5)?)
            .unwrap_or(ConversationStatus::Open),
        priority: r.get(6)?,
        labels: serde_json::from_str(&r.get::<_, String>(7)?).unwrap_or_default(),
        waiting_since: r.get(8)?,
        first_response_at: r.get(9)?,
        queued_at: r.get(10)?,
        last_agent_id: r.get(11)?,
        alert: r.get(12)?,
        snoozed_until: r.get(13)?,
        auto_replied: r.get(14)?,
        last_activity_at: r.get(15)?,
        created_at: r.get(16)?,
        identity_id: r.get(17)?,
        assigned_at: r.get(18)?,
    })
}

pub fn get(conn: &Connection, id: ConversationId) -> Result<Option<ConvRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {ROW_COLUMNS} FROM conversations WHERE id = ?1"
        ))?
        .query_row([id.0], conv_row)
        .optional()?)
}

/// The contact's conversation in `inbox` that is not resolved (the newest), if any, of the
/// per-inbox identity `identity` (a conversation without one matches any): two accounts of one
/// merged contact in the same inbox have conversations of their own.
pub fn find_unresolved(
    conn: &Connection,
    contact: ContactId,
    inbox: i64,
    identity: Option<i64>,
) -> Result<Option<ConvRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {ROW_COLUMNS} FROM conversations
             WHERE contact_id = ?1 AND inbox_id = ?2 AND status != 'resolved'
               AND (?3 IS NULL OR identity_id IS NULL OR identity_id = ?3)
             -- `+id`: sort the contact's few rows, never walk the inbox in id order.
             ORDER BY +id DESC LIMIT 1"
        ))?
        .query_row(params![contact.0, inbox, identity], conv_row)
        .optional()?)
}

/// The agent who last handled any conversation of this contact (for sticky routing).
pub fn last_agent_of(conn: &Connection, contact: ContactId) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT coalesce(assignee_id, last_agent_id) FROM conversations
             WHERE contact_id = ?1 AND coalesce(assignee_id, last_agent_id) IS NOT NULL
             ORDER BY id DESC LIMIT 1",
        )?
        .query_row([contact.0], |r| r.get(0))
        .optional()?)
}

/// A new conversation, open and queued for routing.
pub struct NewConversation<'a> {
    pub id: ConversationId,
    pub contact: ContactId,
    pub inbox: i64,
    pub team: Option<i64>,
    pub priority: i64,
    pub skills: &'a BTreeSet<String>,
    pub last_agent: Option<i64>,
    /// The per-inbox identity the customer wrote through.
    pub identity: Option<i64>,
    pub now: i64,
}

pub fn create(conn: &Connection, n: &NewConversation<'_>) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO conversations (id, contact_id, status, created_at, updated_at, inbox_id,
                                    team_id, priority, skills, queued_at, last_activity_at,
                                    last_agent_id, identity_id)
         VALUES (?1, ?2, 'open', ?3, ?3, ?4, ?5, ?6, ?7, ?3, ?3, ?8, ?9)",
    )?
    .execute(params![
        n.id.0,
        n.contact.0,
        n.now,
        n.inbox,
        n.team,
        n.priority,
        serde_json::to_string(n.skills).unwrap_or_else(|_| "[]".into()),
        n.last_agent,
        n.identity,
    ])?;
    Ok(())
}

/// After a customer's message: activity, last message and the wait clock (kept when already
/// running); `wake`: the conversation was pending or snoozed and opens again. (Status is set
/// only then: setting it, even to the same value, rewrites the indexes that hold it.)
pub fn after_incoming(
    conn: &Connection,
    id: ConversationId,
    msg: i64,
    now: i64,
    wake: bool,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE conversations SET last_activity_at = ?3, last_message_id = ?2, updated_at = ?3,
             waiting_since = coalesce(waiting_since, ?3)
         WHERE id = ?1",
    )?
    .execute(params![id.0, msg, now])?;
    if wake {
        conn.prepare_cached(
            "UPDATE conversations SET status = 'open', snoozed_until = NULL
             WHERE id = ?1 AND status IN ('snoozed', 'pending')",
        )?
        .execute(params![id.0])?;
    }
    Ok(())
}

/// After an agent's reply: the first response is recorded, the wait clock and alert stop,
/// and an unassigned conversation goes to the replying agent.
pub fn after_reply(
    conn: &Connection,
    id: ConversationId,
    msg: i64,
    agent: Option<i64>,
    now: i64,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE conversations SET last_activity_at = ?3, last_message_id = ?2, updated_at = ?3,
             first_response_at = coalesce(first_response_at, ?3), waiting_since = NULL,
             alert = NULL, assignee_id = coalesce(assignee_id, ?4),
             assigned_at = CASE WHEN assignee_id IS NULL AND ?4 IS NOT NULL THEN ?3
                                ELSE assigned_at END,
             queued_at = CASE WHEN coalesce(assignee_id, ?4) IS NULL THEN queued_at END,
             last_agent_id = coalesce(?4, last_agent_id)
         WHERE id = ?1",
    )?
    .execute(params![id.0, msg, now, agent])?;
    Ok(())
}

/// After a note or system message: activity and last message only.
pub fn after_internal(conn: &Connection, id: ConversationId, msg: i64, now: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE conversations SET last_activity_at = ?3, last_message_id = ?2, updated_at = ?3
         WHERE id = ?1",
    )?
    .execute(params![id.0, msg, now])?;
    Ok(())
}

/// After a system event (assignment, transfer, status change): only `updated_at`. Events are
/// not what the customer or the agent said, so they neither become the list's last message nor
/// count as activity.
pub fn after_event(conn: &Connection, id: ConversationId, now: i64) -> Result<()> {
    conn.prepare_cached("UPDATE conversations SET updated_at = ?2 WHERE id = ?1")?
        .execute(params![id.0, now])?;
    Ok(())
}

/// Give the conversation to `agent` (or back to the queue with `None`). `only_if_unassigned`
/// makes the change conditional (the dispatcher never overrides a manual assignment).
/// Returns whether the row changed.
pub fn set_assignee(
    conn: &Connection,
    id: ConversationId,
    agent: Option<i64>,
    only_if_unassigned: bool,
    now: i64,
) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE conversations SET
                 last_agent_id = coalesce(assignee_id, last_agent_id),
                 assignee_id = ?2, updated_at = ?3,
                 assigned_at = CASE WHEN ?2 IS NULL THEN NULL ELSE ?3 END,
                 queued_at = CASE WHEN ?2 IS NULL THEN ?3 END
             WHERE id = ?1 AND (NOT ?4 OR assignee_id IS NULL) AND status != 'resolved'",
        )?
        .execute(params![id.0, agent, now, only_if_unassigned])?;
    Ok(n > 0)
}

/// Move to another team (transfer or overflow); the queue clock restarts there.
pub fn set_team(conn: &Connection, id: ConversationId, team: Option<i64>, now: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE conversations SET team_id = ?2, updated_at = ?3,
             queued_at = CASE WHEN assignee_id IS NULL THEN ?3 END
         WHERE id = ?1",
    )?
    .execute(params![id.0, team, now])?;
    Ok(())
}

pub fn set_status(
    conn: &Connection,
    id: ConversationId,
    status: ConversationStatus,
    snooze_until: Option<i64>,
    now: i64,
) -> Result<()> {
    let resolved = status == ConversationStatus::Resolved;
    conn.prepare_cached(
        "UPDATE conversations SET status = ?2, snoozed_until = ?3, updated_at = ?4,
             resolved_at = CASE WHEN ?5 THEN ?4 END,
             waiting_since = CASE WHEN ?5 THEN NULL ELSE waiting_since END,
             alert = CASE WHEN ?5 THEN NULL ELSE alert END,
             queued_at = CASE WHEN ?5 THEN NULL
                              WHEN assignee_id IS NULL THEN coalesce(queued_at, ?4) END
         WHERE id = ?1",
    )?
    .execute(params![id.0, status.as_str(), snooze_until, now, resolved])?;
    Ok(())
}

pub fn set_labels(
    conn: &Connection,
    id: ConversationId,
    labels: &[String],
    now: i64,
) -> Result<()> {
    conn.prepare_cached("UPDATE conversations SET labels = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![
            id.0,
            serde_json::to_string(labels).unwrap_or_else(|_| "[]".into()),
            now
        ])?;
    Ok(())
}

pub fn set_priority(conn: &Connection, id: ConversationId, level: i64, now: i64) -> Result<()> {
    conn.prepare_cached("UPDATE conversations SET priority = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id.0, level, now])?;
    Ok(())
}

/// Set (or clear) the reply-time alert; returns whether it changed.
pub fn set_alert(conn: &Connection, id: ConversationId, alert: Option<&str>) -> Result<bool> {
    Ok(conn
        .prepare_cached("UPDATE conversations SET alert = ?2 WHERE id = ?1 AND alert IS NOT ?2")?
        .execute(params![id.0, alert])?
        > 0)
}

pub fn mark_auto_replied(conn: &Connection, id: ConversationId) -> Result<()> {
    conn.prepare_cached("UPDATE conversations SET auto_replied = 1 WHERE id = ?1")?
        .execute([id.0])?;
    Ok(())
}

/// Record that `user` has read up to `message`.
pub fn mark_read(conn: &Connection, user: i64, id: ConversationId, message: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO conversation_marks (user_id, conversation_id, last_read_id)
         VALUES (?1, ?2, ?3)
         ON CONFLICT (user_id, conversation_id)
         DO UPDATE SET last_read_id = max(last_read_id, excluded.last_read_id)",
    )?
    .execute(params![user, id.0, message])?;
    Ok(())
}

/// The furthest message of conversation `id` any agent has read (0: none yet).
pub fn agents_read_up_to(conn: &Connection, id: ConversationId) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT coalesce(max(last_read_id), 0) FROM conversation_marks WHERE conversation_id = ?1",
        )?
        .query_row([id.0], |r| r.get(0))?)
}

pub fn set_pinned(conn: &Connection, user: i64, id: ConversationId, pinned: bool) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO conversation_marks (user_id, conversation_id, pinned) VALUES (?1, ?2, ?3)
         ON CONFLICT (user_id, conversation_id) DO UPDATE SET pinned = excluded.pinned",
    )?
    .execute(params![user, id.0, pinned])?;
    Ok(())
}

/// Everything a workspace row shows, decrypted (the contact name still unmasked: the caller
/// masks it).
#[derive(Debug, Clone)]
pub struct Summary {
    pub row: ConvRow,
    pub contact_name: Option<String>,
    pub vip: bool,
    pub inbox_name: Option<String>,
    pub channel: Option<String>,
    pub assignee_name: Option<String>,
    pub last_activity_at: i64,
    pub last_message: Option<(Direction, MessageKind, String)>,
    pub unread: i64,
    pub pinned: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The summary columns. `personal`: with the viewer's unread count and pin (a count of the
/// messages after their read mark); without, both are 0 (engine events need neither, and the
/// count would grow with the conversation).
fn summary_select(personal: bool) -> String {
    let (pinned, unread, marks) = if personal {
        (
            "coalesce(mk.pinned, 0)",
            "(SELECT count(*) FROM messages um WHERE um.conversation_id = c.id
                AND um.direction = 'incoming' AND um.id > coalesce(mk.last_read_id, 0))",
            "LEFT JOIN conversation_marks mk ON mk.conversation_id = c.id AND mk.user_id = :viewer",
        )
    } else {
        ("0", "0", "")
    };
    format!(
        "SELECT c.id, c.contact_id, c.inbox_id, c.team_id, c.assignee_id,
        c.status, c.priority, c.labels, c.waiting_since, c.first_response_at, c.queued_at,
        c.last_agent_id, c.alert, c.snoozed_until, c.auto_replied, c.last_activity_at,
        c.created_at, c.identity_id, c.assigned_at, ct.name, ct.vip, i.name, i.channel,
        CASE WHEN u.display_name != '' THEN u.display_name ELSE u.username END,
        c.last_message_id, m.direction, m.kind, CASE WHEN m.recalled_at IS NULL THEN m.body END,
        {pinned}, {unread}, c.updated_at
    FROM conversations c
    JOIN contacts ct ON ct.id = c.contact_id
    LEFT JOIN inboxes i ON i.id = c.inbox_id
    LEFT JOIN users u ON u.id = c.assignee_id
    LEFT JOIN messages m ON m.id = c.last_message_id
    {marks}"
    )
}

fn summary_row(ring: &Keyring, r: &Row<'_>) -> Result<Summary> {
    // Columns 0..=18 are the conversation row (see `summary_select`).
    let row = conv_row(r)?;
    let contact_ct: Option<Vec<u8>> = r.get(19)?;
    let contact_name = match contact_ct {
        Some(ct) => {
            Some(ring.decrypt_string(FieldRef::new("contacts", "name", row.contact_id.0), &ct)?)
        }
        None => None,
    };
    let last_id: Option<i64> = r.get(24)?;
    let direction = r.get::<_, Option<String>>(25)?;
    let last_message = match (last_id, direction) {
        (Some(mid), Some(direction)) => {
            // A recalled message is listed, without its text.
            let body = match r.get::<_, Option<Vec<u8>>>(27)? {
                Some(ct) => ring.decrypt_string(FieldRef::new("messages", "body", mid), &ct)?,
                None => String::new(),
            };
            Some((
                Direction::parse(&direction).unwrap_or(Direction::System),
                MessageKind::parse(&r.get::<_, String>(26)?).unwrap_or(MessageKind::Text),
                body,
            ))
        }
        _ => None,
    };
    Ok(Summary {
        contact_name,
        vip: r.get(20)?,
        inbox_name: r.get(21)?,
        channel: r.get(22)?,
        assignee_name: r.get(23)?,
        last_activity_at: row.last_activity_at,
        last_message,
        pinned: r.get(28)?,
        unread: r.get(29)?,
        created_at: row.created_at,
        updated_at: r.get(30)?,
        row,
    })
}

/// One conversation's summary as `viewer` sees it (unread and pin are theirs).
pub fn summary(
    conn: &Connection,
    ring: &Keyring,
    id: ConversationId,
    viewer: i64,
) -> Result<Option<Summary>> {
    static PERSONAL: LazyLock<String> =
        LazyLock::new(|| format!("{} WHERE c.id = :id", summary_select(true)));
    static SHARED: LazyLock<String> =
        LazyLock::new(|| format!("{} WHERE c.id = :id", summary_select(false)));
    let personal = viewer != 0;
    let mut stmt = conn.prepare_cached(if personal { &PERSONAL } else { &SHARED })?;
    let mut rows = if personal {
        stmt.query(rusqlite::named_params! {":viewer": viewer, ":id": id.0})?
    } else {
        stmt.query(rusqlite::named_params! {":id": id.0})?
    };
    match rows.next()? {
        Some(r) => Ok(Some(summary_row(ring, r)?)),
        None => Ok(None),
    }
}

/// Which conversations a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Mine,
    Unassigned,
    Teams,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Last activity, newest first.
    Activity,
    /// The customer waiting longest first (conversations nobody waits on last).
    Waiting,
}

/// A list request. `after` is the keyset cursor `(sort key, id)` of the previous page's last row.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub view: View,
    pub status: Option<ConversationStatus>,
    pub inbox: Option<i64>,
    pub label: Option<String>,
    pub priority: Option<i64>,
    pub sort: Sort,
    pub limit: u32,
    pub after: Option<(i64, i64)>,
}

/// The sort key of a summary under `sort` (what cursors carry).
pub fn sort_key(s: &Summary, sort: Sort) -> i64 {
    match sort {
        Sort::Activity => s.last_activity_at,
        Sort::Waiting => s.row.waiting_since.unwrap_or(i64::MAX),
    }
}

/// Conversations for `viewer` within `scope` (plus those assigned to them), filtered and
/// sorted. The first page (no cursor) starts with the viewer's pinned conversations.
pub fn list(
    conn: &Connection,
    ring: &Keyring,
    viewer: i64,
    viewer_teams: &BTreeSet<i64>,
    scope: &Scope,
    q: &ListQuery,
) -> Result<Vec<Summary>> {
    let (all, inboxes, teams) = super::contacts::scope_args(scope);
    let view_cond = match q.view {
        View::Mine => "c.assignee_id = :viewer",
        View::Unassigned => "c.assignee_id IS NULL",
        View::Teams => "c.team_id IN (SELECT value FROM json_each(:my_teams))",
        View::All => "1",
    };
    let (key, order) = match q.sort {
        Sort::Activity => ("c.last_activity_at", "DESC"),
        Sort::Waiting => ("coalesce(c.waiting_since, 9223372036854775807)", "ASC"),
    };
    let cmp = if order == "DESC" { "<" } else { ">" };
    let select = summary_select(true);
    let sql = format!(
        "{select}
         WHERE (c.assignee_id = :viewer OR :all OR c.inbox_id IN (SELECT value FROM json_each(:inboxes))
                OR c.team_id IN (SELECT value FROM json_each(:teams)))
           AND {view_cond}
           AND (:status IS NULL OR c.status = :status)
           AND (:inbox IS NULL OR c.inbox_id = :inbox)
           AND (:priority IS NULL OR c.priority = :priority)
           AND (:label IS NULL OR EXISTS (SELECT 1 FROM json_each(c.labels) WHERE value = :label))
           AND (CASE WHEN :has_cursor THEN coalesce(mk.pinned, 0) = 0
                     AND ({key}, c.id) {cmp} (:ck, :cid) ELSE 1 END)
         ORDER BY CASE WHEN :has_cursor THEN 0 ELSE coalesce(mk.pinned, 0) END DESC,
                  {key} {order}, c.id {order}
         LIMIT :limit"
    );
    let my_teams = serde_json::to_string(viewer_teams).unwrap_or_else(|_| "[]".into());
    let (ck, cid) = q.after.unwrap_or((0, 0));
    let mut stmt = conn.prepare_cached(&sql)?;
    let status = q.status.map(ConversationStatus::as_str);
    let all_params: [(&str, &dyn rusqlite::ToSql); 13] = [
        (":viewer", &viewer),
        (":all", &all),
        (":inboxes", &inboxes),
        (":teams", &teams),
        (":my_teams", &my_teams),
        (":status", &status),
        (":inbox", &q.inbox),
        (":priority", &q.priority),
        (":label", &q.label),
        (":has_cursor", &q.after.is_some()),
        (":ck", &ck),
        (":cid", &cid),
        (":limit", &q.limit),
    ];
    // Each view's SQL names only the parameters it needs; bind exactly those.
    let mut bound: Vec<(&str, &dyn rusqlite::ToSql)> = Vec::with_capacity(all_params.len());
    for (name, value) in all_params {
        if stmt.parameter_index(name)?.is_some() {
            bound.push((name, value));
        }
    }
    let mut rows = stmt.query(bound.as_slice())?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(summary_row(ring, r)?);
    }
    Ok(out)
}

/// The labels in use on conversations in `scope` (or assigned to `viewer`), sorted, at most
/// `limit`.
pub fn labels(conn: &Connection, scope: &Scope, viewer: i64, limit: u32) -> Result<Vec<String>> {
    let (all, inboxes, teams) = super::contacts::scope_args(scope);
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT j.value FROM conversations c, json_each(c.labels) j
         WHERE c.labels != '[]'
           AND (c.assignee_id = ?4 OR ?1 OR c.inbox_id IN (SELECT value FROM json_each(?2))
                OR c.team_id IN (SELECT value FROM json_each(?3)))
         ORDER BY j.value LIMIT ?5",
    )?;
    let rows = stmt.query_map(params![all, inboxes, teams, viewer, limit], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// `(team id, inbox id, mean handling ms)` of one queue.
pub type HandleTime = (Option<i64>, Option<i64>, i64);

/// Mean handling time in ms (from the first answer, or the start, to resolution) of the
/// conversations resolved since `since`, per queue: `(team id, inbox id, ms)` where a
/// conversation with a team counts for its team (inbox id `None`), else for its inbox.
pub fn handle_times(conn: &Connection, since: i64) -> Result<Vec<HandleTime>> {
    let mut stmt = conn.prepare_cached(
        "SELECT team_id, CASE WHEN team_id IS NULL THEN inbox_id END AS inbox,
                CAST(avg(resolved_at - coalesce(first_response_at, created_at)) AS INTEGER)
         FROM conversations
         WHERE status = 'resolved' AND resolved_at >= ?1
         GROUP BY team_id, inbox",
    )?;
    let rows = stmt.query_map([since], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Open, unassigned conversations waiting for routing, with what routing needs.
#[derive(Debug, Clone)]
pub struct QueuedRow {
    pub id: ConversationId,
    pub inbox_id: i64,
    pub team_id: Option<i64>,
    pub priority: i64,
    pub vip: bool,
    pub queued_at: i64,
    pub skills: BTreeSet<String>,
    pub last_agent_id: Option<i64>,
    pub auto_replied: bool,
}

pub fn queued(conn: &Connection) -> Result<Vec<QueuedRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, c.inbox_id, c.team_id, c.priority, ct.vip,
                coalesce(c.queued_at, c.created_at), c.skills, c.last_agent_id, c.auto_replied
         FROM conversations c JOIN contacts ct ON ct.id = c.contact_id
         WHERE c.status = 'open' AND c.assignee_id IS NULL AND c.inbox_id IS NOT NULL",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(QueuedRow {
            id: ConversationId(r.get(0)?),
            inbox_id: r.get(1)?,
            team_id: r.get(2)?,
            priority: r.get(3)?,
            vip: r.get(4)?,
            queued_at: r.get(5)?,
            skills: serde_json::from_str(&r.get::<_, String>(6)?).unwrap_or_default(),
            last_agent_id: r.get(7)?,
            auto_replied: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// An open conversation whose customer waits for a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingRow {
    pub id: ConversationId,
    pub inbox_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub waiting_since: i64,
    /// An agent has answered before (the next-response threshold applies).
    pub answered: bool,
    pub alert: Option<String>,
    pub assigned_at: Option<i64>,
}

pub fn awaiting_reply(conn: &Connection) -> Result<Vec<WaitingRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, inbox_id, assignee_id, waiting_since, first_response_at IS NOT NULL, alert,
                assigned_at
         FROM conversations WHERE status = 'open' AND waiting_since IS NOT NULL",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(WaitingRow {
            id: ConversationId(r.get(0)?),
            inbox_id: r.get(1)?,
            assignee_id: r.get(2)?,
            waiting_since: r.get(3)?,
            answered: r.get(4)?,
            alert: r.get(5)?,
            assigned_at: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn snoozed_due(conn: &Connection, now: i64) -> Result<Vec<ConversationId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM conversations WHERE status = 'snoozed' AND snoozed_until <= ?1",
    )?;
    let rows = stmt.query_map([now], |r| r.get(0).map(ConversationId))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Open or pending conversations assigned to each agent: (agent id, count).
/// Open or pending conversations assigned to `agent`.
pub fn load_of(conn: &Connection, agent: i64) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM conversations
             WHERE assignee_id = ?1 AND status IN ('open', 'pending')",
        )?
        .query_row([agent], |r| r.get(0))?)
}

pub fn loads(conn: &Connection) -> Result<Vec<(i64, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT assignee_id, count(*) FROM conversations
         WHERE assignee_id IS NOT NULL AND status IN ('open', 'pending')
         GROUP BY assignee_id",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Open conversations assigned to `agent` whose customer is waiting.
pub fn waiting_with(conn: &Connection, agent: i64) -> Result<Vec<ConversationId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM conversations
         WHERE assignee_id = ?1 AND status = 'open' AND waiting_since IS NOT NULL",
    )?;
    let rows = stmt.query_map([agent], |r| r.get(0).map(ConversationId))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Conversation ids of a contact, newest first.
pub fn of_contact(conn: &Connection, contact: ContactId) -> Result<Vec<ConvRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ROW_COLUMNS} FROM conversations WHERE contact_id = ?1 ORDER BY id DESC"
    ))?;
    let rows = stmt.query_map([contact.0], conv_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The conversations a customer had through one per-inbox identity (a widget visitor), newest
/// first, as (id, status).
pub fn through_identity(
    conn: &Connection,
    contact: ContactId,
    inbox: i64,
    identity: i64,
    limit: u32,
) -> Result<Vec<(ConversationId, ConversationStatus)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, status FROM conversations
         WHERE contact_id = ?1 AND inbox_id = ?2 AND identity_id = ?3
         ORDER BY id DESC LIMIT ?4",
    )?;
    let rows = stmt.query_map(params![contact.0, inbox, identity, limit], |r| {
        Ok((
            ConversationId(r.get(0)?),
            ConversationStatus::parse(&r.get::<_, String>(1)?).unwrap_or(ConversationStatus::Open),
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
