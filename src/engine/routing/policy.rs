//! The routing decision: given who is waiting, who is online and how each queue is configured,
//! [`plan`] decides which conversations go to which agent now, which move to an overflow team,
//! and where the rest stand in their queue. See the [module documentation](super) for the rules.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

pub use crate::domain::MessageContext;

/// An agent's presence; only [`Presence::Online`] agents receive new conversations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Online,
    Busy,
    Away,
    Offline,
}

/// How an agent is chosen among the eligible ones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The agent who was assigned a conversation longest ago.
    #[default]
    RoundRobin,
    /// The agent with the smallest share of their capacity in use.
    LeastLoad,
}

/// An agent as routing sees them at the moment of the snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agent {
    pub id: i64,
    pub presence: Presence,
    /// Most conversations the agent handles at once (0: receives none).
    pub capacity: u32,
    /// Open conversations currently assigned to the agent.
    pub load: u32,
    pub skills: BTreeSet<String>,
    pub teams: BTreeSet<i64>,
    pub inboxes: BTreeSet<i64>,
    /// When the agent was last assigned a conversation (ms since the epoch; 0 = never).
    pub last_assigned_at: i64,
}

/// An open, unassigned conversation waiting for an agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiting {
    pub conversation_id: i64,
    pub inbox_id: i64,
    pub team_id: Option<i64>,
    /// 0 low, 1 normal, 2 high, 3 urgent.
    pub priority: u8,
    pub vip: bool,
    /// When the conversation joined the queue (ms since the epoch).
    pub queued_at: i64,
    /// Skills an agent must hold (until the skill fallback applies).
    pub skills: BTreeSet<String>,
    /// The agent who last handled this contact, for sticky routing.
    pub last_agent: Option<i64>,
}

impl Waiting {
    /// The queue the conversation waits in: its team's if it has one, else its inbox's.
    pub fn queue(&self) -> QueueKey {
        match self.team_id {
            Some(team) => QueueKey::Team(team),
            None => QueueKey::Inbox(self.inbox_id),
        }
    }

    /// How long the conversation has waited at `now_ms` (never negative).
    pub fn waited_ms(&self, now_ms: i64) -> i64 {
        now_ms.saturating_sub(self.queued_at).max(0)
    }
}

/// The order in which waiting conversations are served: VIP first, then higher priority, then
/// the one queued earlier, then the lower conversation id (so the order is total).
pub fn service_order(a: &Waiting, b: &Waiting) -> Ordering {
    b.vip
        .cmp(&a.vip)
        .then(b.priority.cmp(&a.priority))
        .then(a.queued_at.cmp(&b.queued_at))
        .then(a.conversation_id.cmp(&b.conversation_id))
}

/// Most skill rules in one settings object.
pub const MAX_SKILL_RULES: usize = 200;
/// Most keywords in one skill rule.
pub const MAX_KEYWORDS: usize = 100;
/// Longest keyword, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest skill name, in characters (the same limit as an agent's skills).
pub const MAX_SKILL_CHARS: usize = 40;
/// Longest configurable wait before overflow or skill fallback.
pub const MAX_AFTER_SECS: u64 = 7 * 86_400;

/// The `routing` object of an inbox's or a team's settings. Every field may be left out.
///
/// ```json
/// {"mode":"round_robin","sticky":true,"skills":[{"keywords":["贷款"],"skill":"loans"}],
///  "overflow_team_id":null,"overflow_after_secs":300,"skill_fallback_after_secs":120}
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoutingSettings {
    pub mode: Mode,
    /// Give a returning contact to the agent who last handled them, when that agent is eligible.
    pub sticky: bool,
    /// Keyword rules that set the skills a new conversation requires.
    pub skills: Vec<SkillRule>,
    /// Team that takes conversations no agent here could take in time (absent: no overflow).
    pub overflow_team_id: Option<i64>,
    /// Wait before overflowing (absent: overflow as soon as no agent is free).
    pub overflow_after_secs: Option<u64>,
    /// Wait after which required skills are ignored (absent: skills are always required).
    pub skill_fallback_after_secs: Option<u64>,
}

/// A new conversation requires `skill` when any of the rule's conditions holds: a keyword
/// occurs in the customer's first message, the page the customer writes from contains one of
/// `pages`, or the customer's language or region is listed. A rule needs at least one
/// condition.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SkillRule {
    pub keywords: Vec<String>,
    /// Parts of the page URL (`/loans/`, `credit-card`), matched ignoring case.
    pub pages: Vec<String>,
    /// Language tags (`en`, `zh-HK`): `en` also matches `en-GB`; case is ignored.
    pub languages: Vec<String>,
    /// Regions as the channel names them (`广东`, `HK`), matched exactly ignoring case.
    pub regions: Vec<String>,
    pub skill: String,
}

impl SkillRule {
    fn matches(&self, text_lower: &str, ctx: &MessageContext) -> bool {
        let lower = |v: &Option<String>| v.as_deref().map(|s| s.trim().to_lowercase());
        let (page, lang, region) = (lower(&ctx.page), lower(&ctx.language), lower(&ctx.region));
        let nonblank = |k: &&String| !k.trim().is_empty();
        self.keywords
            .iter()
            .filter(nonblank)
            .any(|k| text_lower.contains(&k.trim().to_lowercase()))
            || page.as_deref().is_some_and(|p| {
                self.pages
                    .iter()
                    .filter(nonblank)
                    .any(|k| p.contains(&k.trim().to_lowercase()))
            })
            || lang.as_deref().is_some_and(|l| {
                self.languages.iter().filter(nonblank).any(|k| {
                    let k = k.trim().to_lowercase();
                    l == k || l.starts_with(&format!("{k}-"))
                })
            })
            || region.as_deref().is_some_and(|r| {
                self.regions
                    .iter()
                    .filter(nonblank)
                    .any(|k| k.trim().to_lowercase() == r)
            })
    }
}

impl RoutingSettings {
    /// Every problem, each naming its field (`skills[2].skill: must not be empty`); empty when
    /// the settings can be saved.
    pub fn validate(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.skills.len() > MAX_SKILL_RULES {
            p.push(format!("skills: at most {MAX_SKILL_RULES} rules"));
        }
        for (i, rule) in self.skills.iter().enumerate() {
            let skill = rule.skill.trim();
            if skill.is_empty() {
                p.push(format!("skills[{i}].skill: must not be empty"));
            } else if skill != rule.skill {
                p.push(format!(
                    "skills[{i}].skill: must not start or end with spaces"
                ));
            }
            if rule.skill.chars().count() > MAX_SKILL_CHARS {
                p.push(format!(
                    "skills[{i}].skill: at most {MAX_SKILL_CHARS} characters"
                ));
            }
            if rule.keywords.is_empty()
                && rule.pages.is_empty()
                && rule.languages.is_empty()
                && rule.regions.is_empty()
            {
                p.push(format!(
                    "skills[{i}]: give at least one keyword, page, language or region"
                ));
            }
            for (field, list) in [
                ("pages", &rule.pages),
                ("languages", &rule.languages),
                ("regions", &rule.regions),
            ] {
                if list.len() > MAX_KEYWORDS {
                    p.push(format!(
                        "skills[{i}].{field}: at most {MAX_KEYWORDS} entries"
                    ));
                }
                for (j, k) in list.iter().enumerate() {
                    if k.trim().is_empty() || k.chars().count() > MAX_NAME_CHARS {
                        p.push(format!(
                            "skills[{i}].{field}[{j}]: 1 to {MAX_NAME_CHARS} characters"
                        ));
                    }
                }
            }
            if rule.keywords.len() > MAX_KEYWORDS {
                p.push(format!(
                    "skills[{i}].keywords: at most {MAX_KEYWORDS} keywords"
                ));
            }
            for (j, k) in rule.keywords.iter().enumerate() {
                if k.trim().is_empty() {
                    p.push(format!("skills[{i}].keywords[{j}]: must not be empty"));
                }
                if k.chars().count() > MAX_NAME_CHARS {
                    p.push(format!(
                        "skills[{i}].keywords[{j}]: at most {MAX_NAME_CHARS} characters"
                    ));
                }
            }
        }
        if self.overflow_team_id.is_some_and(|t| t <= 0) {
            p.push("overflow_team_id: not a team id".into());
        }
        for (k, v) in [
            ("overflow_after_secs", self.overflow_after_secs),
            ("skill_fallback_after_secs", self.skill_fallback_after_secs),
        ] {
            if v.is_some_and(|v| v > MAX_AFTER_SECS) {
                p.push(format!("{k}: at most 7 days"));
            }
        }
        p
    }

    /// Skills a new conversation requires: those of every rule with a keyword that occurs in
    /// the customer's first message `text` (ignoring case; Chinese keywords match as
    /// substrings, without word boundaries), or whose page, language or region matches `ctx`.
    /// Blank entries and rules without a skill never match.
    pub fn skills_for(&self, text: &str, ctx: &MessageContext) -> BTreeSet<String> {
        if self.skills.is_empty() {
            return BTreeSet::new();
        }
        let text = text.to_lowercase();
        self.skills
            .iter()
            .filter(|r| !r.skill.trim().is_empty() && r.matches(&text, ctx))
            .map(|r| r.skill.trim().to_owned())
            .collect()
    }
}

/// Average handling time used when a queue has none recorded yet.
pub const DEFAULT_AVG_HANDLE_MS: i64 = 300_000;

/// A snapshot of everything routing needs; [`plan`] reads nothing else.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// The moment the plan is made (ms since the epoch).
    pub now_ms: i64,
    pub waiting: &'a [Waiting],
    pub agents: &'a [Agent],
    /// Routing settings per inbox id (missing = default).
    pub inbox_settings: &'a BTreeMap<i64, RoutingSettings>,
    /// Routing settings per team id (a conversation with a team uses its team's settings, else
    /// its inbox's; missing = default).
    pub team_settings: &'a BTreeMap<i64, RoutingSettings>,
    /// Inboxes currently inside business hours (conversations of other inboxes are not
    /// assigned; they keep queue positions).
    pub open_inboxes: &'a BTreeSet<i64>,
    /// Average handling time per queue, for the wait estimate (missing =
    /// [`DEFAULT_AVG_HANDLE_MS`]).
    pub avg_handle_ms: &'a BTreeMap<QueueKey, i64>,
}

/// A queue: a conversation with a team queues in its team, else in its inbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QueueKey {
    Team(i64),
    Inbox(i64),
}

/// Why an agent was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Sticky,
    RoundRobin,
    LeastLoad,
}

/// Give `conversation_id` to `agent_id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub conversation_id: i64,
    pub agent_id: i64,
    pub reason: Reason,
}

/// Move `conversation_id` to team `to_team`; it is routed there by a later plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overflow {
    pub conversation_id: i64,
    pub to_team: i64,
}

/// Where a conversation that stays waiting stands in its queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueEntry {
    pub conversation_id: i64,
    pub queue: QueueKey,
    /// 1-based, contiguous within `queue`.
    pub position: u32,
    pub estimated_wait_ms: i64,
}

/// What the dispatcher applies. Each waiting conversation appears in exactly one list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub assignments: Vec<Assignment>,
    pub overflows: Vec<Overflow>,
    /// In service order.
    pub queue: Vec<QueueEntry>,
}

/// An agent's state while a plan is made: load and recency move with each assignment.
struct Slot<'a> {
    agent: &'a Agent,
    load: u32,
    last_assigned_at: i64,
    /// Order of assignment within this plan (0: none yet), to break ties among agents given
    /// a conversation at the same `now_ms`.
    seq: u64,
}

impl Slot<'_> {
    fn eligible(&self, w: &Waiting, check_skills: bool) -> bool {
        self.agent.presence == Presence::Online
            && self.load < self.agent.capacity
            && serves(self.agent, w.queue())
            && (!check_skills || w.skills.is_subset(&self.agent.skills))
    }

    /// Round-robin rank: assigned longest ago first (earlier in this plan first), then the
    /// smaller load, then the lower id. The load matters when a dispatcher stamps every
    /// assignment of one plan with the same `now_ms`: without it the lowest id among those
    /// agents would lead every later plan, and an agent given two conversations in one plan
    /// would be first again in the next.
    fn recency(&self, other: &Slot<'_>) -> Ordering {
        self.last_assigned_at
            .cmp(&other.last_assigned_at)
            .then(self.seq.cmp(&other.seq))
            .then(self.load.cmp(&other.load))
            .then(self.agent.id.cmp(&other.agent.id))
    }

    /// Least-load rank: smaller `load / capacity` (compared exactly), then round-robin rank.
    fn lightness(&self, other: &Slot<'_>) -> Ordering {
        let mine = u64::from(self.load) * u64::from(other.agent.capacity);
        let theirs = u64::from(other.load) * u64::from(self.agent.capacity);
        mine.cmp(&theirs).then_with(|| self.recency(other))
    }
}

/// Whether `agent` takes conversations of queue `q`.
fn serves(agent: &Agent, q: QueueKey) -> bool {
    match q {
        QueueKey::Team(t) => agent.teams.contains(&t),
        QueueKey::Inbox(i) => agent.inboxes.contains(&i),
    }
}

fn secs_to_ms(secs: u64) -> i64 {
    i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
}

/// Decide assignments, overflows and queue positions for one snapshot; see the
/// [module documentation](super) for the rules. Pure and deterministic: the same input gives
/// the same plan. Duplicate conversation or agent ids in the input count once (first wins).
pub fn plan(input: &Input<'_>) -> Plan {
    let default_settings = RoutingSettings::default();
    let settings_of = |w: &Waiting| {
        let found = match w.team_id {
            Some(team) => input.team_settings.get(&team),
            None => input.inbox_settings.get(&w.inbox_id),
        };
        found.unwrap_or(&default_settings)
    };

    let mut seen_agents = BTreeSet::new();
    let mut slots: Vec<Slot<'_>> = input
        .agents
        .iter()
        .filter(|a| seen_agents.insert(a.id))
        .map(|agent| Slot {
            agent,
            load: agent.load,
            last_assigned_at: agent.last_assigned_at,
            seq: 0,
        })
        .collect();

    let mut order: Vec<&Waiting> = input.waiting.iter().collect();
    order.sort_by(|a, b| service_order(a, b));
    let mut seen_conversations = BTreeSet::new();
    order.retain(|w| seen_conversations.insert(w.conversation_id));

    let now = input.now_ms;
    let mut out = Plan::default();
    let mut staying: Vec<&Waiting> = Vec::new();
    let mut seq = 0u64;
    for w in order {
        if !input.open_inboxes.contains(&w.inbox_id) {
            staying.push(w);
            continue;
        }
        let settings = settings_of(w);
        let waited = w.waited_ms(now);
        let check_skills = settings
            .skill_fallback_after_secs
            .is_none_or(|s| waited < secs_to_ms(s));
        if let Some((slot, reason)) = choose(&mut slots, w, settings, check_skills) {
            seq += 1;
            slot.load = slot.load.saturating_add(1);
            slot.last_assigned_at = slot.last_assigned_at.max(now);
            slot.seq = seq;
            out.assignments.push(Assignment {
                conversation_id: w.conversation_id,
                agent_id: slot.agent.id,
                reason,
            });
            continue;
        }
        let overflow_to = settings.overflow_team_id.filter(|&to| {
            w.team_id != Some(to) && waited >= secs_to_ms(settings.overflow_after_secs.unwrap_or(0))
        });
        match overflow_to {
            Some(to_team) => out.overflows.push(Overflow {
                conversation_id: w.conversation_id,
                to_team,
            }),
            None => staying.push(w),
        }
    }

    let mut positions: BTreeMap<QueueKey, u32> = BTreeMap::new();
    for w in staying {
        let queue = w.queue();
        let position = positions.entry(queue).or_insert(0);
        *position = position.saturating_add(1);
        let staffed = slots
            .iter()
            .filter(|s| s.agent.presence == Presence::Online && serves(s.agent, queue))
            .count();
        let staffed = u32::try_from(staffed).unwrap_or(u32::MAX).max(1);
        let rounds = position.div_ceil(staffed);
        let avg = input
            .avg_handle_ms
            .get(&queue)
            .copied()
            .unwrap_or(DEFAULT_AVG_HANDLE_MS)
            .max(0);
        out.queue.push(QueueEntry {
            conversation_id: w.conversation_id,
            queue,
            position: *position,
            estimated_wait_ms: avg.saturating_mul(i64::from(rounds)),
        });
    }
    out
}

/// The agent for `w`: the sticky agent if allowed and eligible, else the best by `mode`.
fn choose<'s, 'a>(
    slots: &'s mut [Slot<'a>],
    w: &Waiting,
    settings: &RoutingSettings,
    check_skills: bool,
) -> Option<(&'s mut Slot<'a>, Reason)> {
    let sticky = match w.last_agent {
        Some(last) if settings.sticky => slots
            .iter()
            .position(|s| s.agent.id == last && s.eligible(w, check_skills)),
        _ => None,
    };
    if let Some(i) = sticky {
        return slots.get_mut(i).map(|s| (s, Reason::Sticky));
    }
    let eligible = slots.iter_mut().filter(|s| s.eligible(w, check_skills));
    match settings.mode {
        Mode::RoundRobin => eligible
            .min_by(|a, b| a.recency(b))
            .map(|s| (s, Reason::RoundRobin)),
        Mode::LeastLoad => eligible
            .min_by(|a, b| a.lightness(b))
            .map(|s| (s, Reason::LeastLoad)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn settings_parse_from_the_documented_json_and_refuse_unknown_fields() {
        let s: RoutingSettings = serde_json::from_str(
            r#"{"mode":"least_load","sticky":true,"skills":[{"keywords":["贷款"],"skill":"loans"}],
                "overflow_team_id":null,"overflow_after_secs":300,
                "skill_fallback_after_secs":120}"#,
        )
        .unwrap();
        assert_eq!(s.mode, Mode::LeastLoad);
        assert!(s.sticky);
        assert_eq!(s.overflow_after_secs, Some(300));
        assert!(s.validate().is_empty(), "{:?}", s.validate());
        let empty: RoutingSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, RoutingSettings::default());
        assert!(empty.validate().is_empty());
        assert!(serde_json::from_str::<RoutingSettings>(r#"{"stiky":true}"#).is_err());
        assert!(serde_json::from_str::<RoutingSettings>(r#"{"mode":"random"}"#).is_err());
    }

    #[test]
    fn validate_names_each_bad_field() {
        let s = RoutingSettings {
            skills: vec![
                SkillRule {
                    keywords: vec![],
                    skill: " ".into(),
                    ..SkillRule::default()
                },
                SkillRule {
                    keywords: vec!["ok".into(), "  ".into()],
                    skill: "x".repeat(MAX_SKILL_CHARS + 1),
                    ..SkillRule::default()
                },
            ],
            overflow_team_id: Some(0),
            skill_fallback_after_secs: Some(MAX_AFTER_SECS + 1),
            ..RoutingSettings::default()
        };
        let p = s.validate();
        for field in [
            "skills[0].skill:",
            "skills[0]: give at least one",
            "skills[1].keywords[1]:",
            "skills[1].skill: at most",
            "overflow_team_id:",
            "skill_fallback_after_secs:",
        ] {
            assert!(p.iter().any(|e| e.starts_with(field)), "{field} in {p:?}");
        }
        assert_eq!(p.len(), 6, "{p:?}");
    }

    #[test]
    fn skills_for_matches_keywords_ignoring_case_and_chinese_substrings() {
        let s = RoutingSettings {
            skills: vec![
                SkillRule {
                    keywords: vec!["贷款".into(), "Loan".into()],
                    skill: "loans".into(),
                    ..SkillRule::default()
                },
                SkillRule {
                    keywords: vec!["信用卡".into()],
                    skill: "cards".into(),
                    ..SkillRule::default()
                },
                SkillRule {
                    keywords: vec!["".into()],
                    skill: "never".into(),
                    ..SkillRule::default()
                },
            ],
            ..RoutingSettings::default()
        };
        let none = MessageContext::default();
        assert_eq!(
            s.skills_for("我想申请房贷款和信用卡", &none),
            set(&["cards", "loans"])
        );
        assert_eq!(s.skills_for("about my LOAN please", &none), set(&["loans"]));
        assert_eq!(s.skills_for("你好", &none), BTreeSet::new());
    }

    #[test]
    fn skills_follow_the_page_language_and_region() {
        let s = RoutingSettings {
            skills: vec![
                SkillRule {
                    pages: vec!["/Loans/".into()],
                    skill: "loans".into(),
                    ..SkillRule::default()
                },
                SkillRule {
                    languages: vec!["en".into()],
                    skill: "english".into(),
                    ..SkillRule::default()
                },
                SkillRule {
                    regions: vec!["HK".into(), "澳门".into()],
                    skill: "hk".into(),
                    ..SkillRule::default()
                },
            ],
            ..RoutingSettings::default()
        };
        let ctx = |page: &str, lang: &str, region: &str| MessageContext {
            page: Some(page.into()),
            language: Some(lang.into()),
            region: Some(region.into()),
        };
        assert_eq!(
            s.skills_for(
                "hi",
                &ctx("https://bank.example/loans/apply", "en-GB", "hk")
            ),
            set(&["english", "hk", "loans"])
        );
        assert_eq!(
            s.skills_for("你好", &ctx("/cards", "zh-CN", "澳门")),
            set(&["hk"])
        );
        // `en` is a prefix of the tag, not of any word: `eng` is another language.
        assert_eq!(s.skills_for("x", &ctx("/", "eng", "广东")), BTreeSet::new());
        assert!(s.validate().is_empty());
        let empty = RoutingSettings {
            skills: vec![SkillRule {
                skill: "x".into(),
                ..SkillRule::default()
            }],
            ..RoutingSettings::default()
        };
        assert_eq!(empty.validate().len(), 1);
    }
}
