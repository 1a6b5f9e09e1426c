//! Properties of [`plan`] over random snapshots: capacity is never exceeded, round robin is
//! fair, VIP and higher priority are served first, business hours are respected, queue
//! positions are consistent, and the plan does not depend on the order of its input.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::policy::{
    Agent, Input, Mode, Plan, Presence, QueueEntry, QueueKey, RoutingSettings, Waiting, plan,
    service_order,
};

const SKILLS: [&str; 3] = ["loans", "cards", "english"];
const INBOXES: [i64; 3] = [1, 2, 3];
const TEAMS: [i64; 2] = [1, 2];
const NOW: i64 = 600_000;

/// Everything an [`Input`] borrows.
#[derive(Clone, Debug)]
struct Scenario {
    waiting: Vec<Waiting>,
    agents: Vec<Agent>,
    inbox_settings: BTreeMap<i64, RoutingSettings>,
    team_settings: BTreeMap<i64, RoutingSettings>,
    open_inboxes: BTreeSet<i64>,
    avg_handle_ms: BTreeMap<QueueKey, i64>,
}

impl Scenario {
    fn input(&self) -> Input<'_> {
        Input {
            now_ms: NOW,
            waiting: &self.waiting,
            agents: &self.agents,
            inbox_settings: &self.inbox_settings,
            team_settings: &self.team_settings,
            open_inboxes: &self.open_inboxes,
            avg_handle_ms: &self.avg_handle_ms,
        }
    }

    fn conversation(&self, id: i64) -> &Waiting {
        self.waiting
            .iter()
            .find(|w| w.conversation_id == id)
            .unwrap()
    }
}

fn subset<T: Clone + Ord + std::fmt::Debug + 'static>(
    items: &'static [T],
) -> impl Strategy<Value = BTreeSet<T>> {
    proptest::sample::subsequence(items, 0..=items.len()).prop_map(|v| v.into_iter().collect())
}

fn skills() -> impl Strategy<Value = BTreeSet<String>> {
    subset(&SKILLS).prop_map(|s| s.into_iter().map(str::to_owned).collect())
}

fn presence() -> impl Strategy<Value = Presence> {
    prop_oneof![
        3 => Just(Presence::Online),
        1 => Just(Presence::Busy),
        1 => Just(Presence::Away),
        1 => Just(Presence::Offline),
    ]
}

/// Agents with ids 1..=n.
fn agents(max: usize) -> impl Strategy<Value = Vec<Agent>> {
    prop::collection::vec(
        (
            presence(),
            0u32..4,
            0u32..5,
            skills(),
            subset(&TEAMS),
            subset(&INBOXES),
            0i64..NOW,
        ),
        0..max,
    )
    .prop_map(|v| {
        v.into_iter()
            .zip(1..)
            .map(
                |((presence, capacity, load, skills, teams, inboxes, last), id)| Agent {
                    id,
                    presence,
                    capacity,
                    load,
                    skills,
                    teams,
                    inboxes,
                    last_assigned_at: last,
                },
            )
            .collect()
    })
}

/// Conversations with ids 100.. (`with_skills`: random required skills, else none).
fn waiting(max: usize, with_skills: bool) -> impl Strategy<Value = Vec<Waiting>> {
    let skills = if with_skills {
        skills().boxed()
    } else {
        Just(BTreeSet::new()).boxed()
    };
    prop::collection::vec(
        (
            prop::sample::select(&INBOXES[..]),
            prop::option::of(prop::sample::select(&TEAMS[..])),
            0u8..4,
            prop::bool::weighted(0.2),
            0i64..NOW,
            skills,
            prop::option::of(1i64..8),
        ),
        0..max,
    )
    .prop_map(|v| {
        v.into_iter()
            .zip(100..)
            .map(
                |((inbox_id, team_id, priority, vip, queued_at, skills, last_agent), id)| Waiting {
                    conversation_id: id,
                    inbox_id,
                    team_id,
                    priority,
                    vip,
                    queued_at,
                    skills,
                    last_agent,
                },
            )
            .collect()
    })
}

/// Random settings (`overflow`: may overflow to a team).
fn settings(overflow: bool) -> impl Strategy<Value = RoutingSettings> {
    let team = if overflow {
        prop::option::of(prop::sample::select(&TEAMS[..])).boxed()
    } else {
        Just(None).boxed()
    };
    (
        prop_oneof![Just(Mode::RoundRobin), Just(Mode::LeastLoad)],
        any::<bool>(),
        team,
        prop::option::of(0u64..600),
        prop::option::of(0u64..600),
    )
        .prop_map(
            |(mode, sticky, overflow_team_id, overflow_after_secs, fallback)| RoutingSettings {
                mode,
                sticky,
                skills: Vec::new(),
                overflow_team_id,
                overflow_after_secs,
                skill_fallback_after_secs: fallback,
            },
        )
}

fn settings_map(
    keys: &'static [i64],
    overflow: bool,
) -> impl Strategy<Value = BTreeMap<i64, RoutingSettings>> {
    prop::collection::vec(settings(overflow), keys.len())
        .prop_map(move |v| keys.iter().copied().zip(v).collect())
}

/// Any snapshot.
fn scenario() -> impl Strategy<Value = Scenario> {
    (
        waiting(30, true),
        agents(8),
        settings_map(&INBOXES, true),
        settings_map(&TEAMS, true),
        subset(&INBOXES),
        prop::collection::btree_map(
            prop_oneof![
                prop::sample::select(&INBOXES[..]).prop_map(QueueKey::Inbox),
                prop::sample::select(&TEAMS[..]).prop_map(QueueKey::Team),
            ],
            0i64..600_000,
            0..4,
        ),
    )
        .prop_map(
            |(waiting, agents, inbox_settings, team_settings, open_inboxes, avg)| Scenario {
                waiting,
                agents,
                inbox_settings,
                team_settings,
                open_inboxes,
                avg_handle_ms: avg,
            },
        )
}

/// A snapshot where every conversation of a queue could go to the same agents: no required
/// skills, every inbox open, no overflow. Only the service order then decides who waits.
fn uniform_scenario() -> impl Strategy<Value = Scenario> {
    (
        waiting(30, false),
        agents(6),
        settings_map(&INBOXES, false),
        settings_map(&TEAMS, false),
    )
        .prop_map(
            |(waiting, agents, inbox_settings, team_settings)| Scenario {
                waiting,
                agents,
                inbox_settings,
                team_settings,
                open_inboxes: INBOXES.into(),
                avg_handle_ms: BTreeMap::new(),
            },
        )
}

fn assigned_ids(p: &Plan) -> BTreeSet<i64> {
    p.assignments.iter().map(|a| a.conversation_id).collect()
}

/// Each waiting conversation appears exactly once across the three lists.
fn assert_partition(s: &Scenario, p: &Plan) {
    let mut all: Vec<i64> = p
        .assignments
        .iter()
        .map(|a| a.conversation_id)
        .chain(p.overflows.iter().map(|o| o.conversation_id))
        .chain(p.queue.iter().map(|q| q.conversation_id))
        .collect();
    all.sort_unstable();
    let mut expected: Vec<i64> = s.waiting.iter().map(|w| w.conversation_id).collect();
    expected.sort_unstable();
    assert_eq!(all, expected, "every conversation exactly once");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn capacity_is_never_exceeded(s in scenario()) {
        let p = plan(&s.input());
        for a in &s.agents {
            let given = p.assignments.iter().filter(|x| x.agent_id == a.id).count();
            let room = a.capacity.saturating_sub(a.load) as usize;
            prop_assert!(given <= room, "agent {} got {given} with room {room}", a.id);
        }
        for x in &p.assignments {
            let a = s.agents.iter().find(|a| a.id == x.agent_id).unwrap();
            let w = s.conversation(x.conversation_id);
            prop_assert_eq!(a.presence, Presence::Online);
            match w.queue() {
                QueueKey::Team(t) => prop_assert!(a.teams.contains(&t)),
                QueueKey::Inbox(i) => prop_assert!(a.inboxes.contains(&i)),
            }
        }
        assert_partition(&s, &p);
    }

    #[test]
    fn round_robin_is_fair_over_successive_plans(
        k in 1usize..6,
        batches in prop::collection::vec(1usize..5, 0..25),
        lasts in prop::collection::vec(0i64..1000, 6),
    ) {
        let mut agents: Vec<Agent> = (1..).zip(lasts.iter().take(k)).map(|(id, &last)| Agent {
            id,
            presence: Presence::Online,
            capacity: 1000,
            load: 0,
            skills: BTreeSet::new(),
            teams: BTreeSet::new(),
            inboxes: [1].into(),
            last_assigned_at: last,
        }).collect();
        let mut count: BTreeMap<i64, u32> = BTreeMap::new();
        let mut now = 1000;
        let mut next_id = 1;
        for n in batches {
            now += 1000;
            let waiting: Vec<Waiting> = (0..n).map(|_| {
                next_id += 1;
                Waiting {
                    conversation_id: next_id,
                    inbox_id: 1,
                    team_id: None,
                    priority: 1,
                    vip: false,
                    queued_at: now - 10,
                    skills: BTreeSet::new(),
                    last_agent: None,
                }
            }).collect();
            let p = plan(&Input {
                now_ms: now,
                waiting: &waiting,
                agents: &agents,
                inbox_settings: &BTreeMap::new(),
                team_settings: &BTreeMap::new(),
                open_inboxes: &[1].into(),
                avg_handle_ms: &BTreeMap::new(),
            });
            prop_assert_eq!(p.assignments.len(), n);
            // Apply the plan as the dispatcher does.
            for x in &p.assignments {
                *count.entry(x.agent_id).or_default() += 1;
                let a = agents.iter_mut().find(|a| a.id == x.agent_id).unwrap();
                a.load += 1;
                a.last_assigned_at = now;
            }
            let counts: Vec<u32> =
                agents.iter().map(|a| count.get(&a.id).copied().unwrap_or(0)).collect();
            let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
            prop_assert!(max - min <= 1, "counts {counts:?}");
        }
    }

    #[test]
    fn vip_and_higher_priority_are_served_first(s in uniform_scenario()) {
        let p = plan(&s.input());
        let assigned = assigned_ids(&p);
        for u in s.waiting.iter().filter(|w| !assigned.contains(&w.conversation_id)) {
            for a in s.waiting.iter().filter(|w| assigned.contains(&w.conversation_id)) {
                if u.queue() != a.queue() {
                    continue;
                }
                prop_assert!(
                    !u.vip || a.vip,
                    "VIP {} waits while {} is served",
                    u.conversation_id,
                    a.conversation_id
                );
                prop_assert!(
                    !(u.vip == a.vip && u.priority > a.priority),
                    "priority {} conversation {} waits while priority {} conversation {} is served",
                    u.priority, u.conversation_id, a.priority, a.conversation_id
                );
                // Stronger: within a queue the served ones are a prefix of the service order.
                prop_assert!(service_order(u, a).is_gt());
            }
        }
        assert_partition(&s, &p);
    }

    #[test]
    fn closed_inboxes_get_no_assignment_and_no_overflow(s in scenario()) {
        let p = plan(&s.input());
        for id in p.assignments.iter().map(|a| a.conversation_id)
            .chain(p.overflows.iter().map(|o| o.conversation_id))
        {
            prop_assert!(s.open_inboxes.contains(&s.conversation(id).inbox_id));
        }
        for w in s.waiting.iter().filter(|w| !s.open_inboxes.contains(&w.inbox_id)) {
            prop_assert!(p.queue.iter().any(|q| q.conversation_id == w.conversation_id));
        }
    }

    #[test]
    fn queue_positions_are_contiguous_per_queue_in_service_order(s in scenario()) {
        let p = plan(&s.input());
        assert_partition(&s, &p);
        let mut by_queue: BTreeMap<QueueKey, Vec<&QueueEntry>> = BTreeMap::new();
        for q in &p.queue {
            prop_assert_eq!(q.queue, s.conversation(q.conversation_id).queue());
            by_queue.entry(q.queue).or_default().push(q);
        }
        for entries in by_queue.values() {
            let positions: Vec<u32> = entries.iter().map(|q| q.position).collect();
            let expected: Vec<u32> = (1..).take(entries.len()).collect();
            prop_assert_eq!(positions, expected);
            for pair in entries.windows(2) {
                let a = s.conversation(pair[0].conversation_id);
                let b = s.conversation(pair[1].conversation_id);
                prop_assert!(service_order(a, b).is_lt());
                prop_assert!(pair[0].estimated_wait_ms <= pair[1].estimated_wait_ms);
            }
        }
    }

    #[test]
    fn the_plan_does_not_depend_on_input_order(s in scenario()) {
        let p = plan(&s.input());
        prop_assert_eq!(&p, &plan(&s.input()));
        let mut reversed = s.clone();
        reversed.waiting.reverse();
        reversed.agents.reverse();
        prop_assert_eq!(&p, &plan(&reversed.input()));
    }
}
