//! Worked examples of [`plan`]: one rule at a time, with the exact agents chosen.

use std::collections::{BTreeMap, BTreeSet};

use super::policy::{
    Agent, DEFAULT_AVG_HANDLE_MS, Input, Mode, Overflow, Plan, Presence, QueueKey, Reason,
    RoutingSettings, Waiting, plan, service_order,
};

fn agent(id: i64, capacity: u32, load: u32) -> Agent {
    Agent {
        id,
        presence: Presence::Online,
        capacity,
        load,
        skills: BTreeSet::new(),
        teams: BTreeSet::new(),
        inboxes: [1].into(),
        last_assigned_at: 0,
    }
}

fn waiting(id: i64, queued_at: i64) -> Waiting {
    Waiting {
        conversation_id: id,
        inbox_id: 1,
        team_id: None,
        priority: 1,
        vip: false,
        queued_at,
        skills: BTreeSet::new(),
        last_agent: None,
    }
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Plan with inbox 1 open and the given settings for inbox 1.
fn run(now: i64, waiting: &[Waiting], agents: &[Agent], settings: RoutingSettings) -> Plan {
    let inbox_settings = BTreeMap::from([(1, settings)]);
    plan(&Input {
        now_ms: now,
        waiting,
        agents,
        inbox_settings: &inbox_settings,
        team_settings: &BTreeMap::new(),
        open_inboxes: &[1].into(),
        avg_handle_ms: &BTreeMap::new(),
    })
}

fn assigned(p: &Plan) -> Vec<(i64, i64, Reason)> {
    p.assignments
        .iter()
        .map(|a| (a.conversation_id, a.agent_id, a.reason))
        .collect()
}

#[test]
fn service_order_is_vip_then_priority_then_age_then_id() {
    let mut a = waiting(5, 100);
    a.vip = true;
    a.priority = 0;
    let mut b = waiting(4, 50);
    b.priority = 3;
    let c = waiting(3, 50);
    let d = waiting(2, 50);
    let mut v = [d, c, b, a];
    v.sort_by(service_order);
    let ids: Vec<i64> = v.iter().map(|w| w.conversation_id).collect();
    assert_eq!(ids, vec![5, 4, 2, 3]);
}

#[test]
fn round_robin_spreads_one_plan_over_agents_assigned_longest_ago() {
    let mut a1 = agent(1, 10, 0);
    a1.last_assigned_at = 500;
    let mut a2 = agent(2, 10, 0);
    a2.last_assigned_at = 100;
    let a3 = agent(3, 10, 0);
    let w: Vec<Waiting> = (10..17).map(|i| waiting(i, i)).collect();
    let p = run(1000, &w, &[a1, a2, a3], RoutingSettings::default());
    let agents: Vec<i64> = p.assignments.iter().map(|a| a.agent_id).collect();
    assert_eq!(agents, vec![3, 2, 1, 3, 2, 1, 3]);
    assert!(p.assignments.iter().all(|a| a.reason == Reason::RoundRobin));
}

#[test]
fn only_online_agents_with_room_and_membership_receive() {
    let mut busy = agent(1, 5, 0);
    busy.presence = Presence::Busy;
    let full = agent(2, 2, 2);
    let mut elsewhere = agent(3, 5, 0);
    elsewhere.inboxes = [2].into();
    let zero = agent(4, 0, 0);
    let p = run(
        0,
        &[waiting(10, 0)],
        &[busy, full, elsewhere, zero],
        RoutingSettings::default(),
    );
    assert!(p.assignments.is_empty());
    assert_eq!(p.queue.len(), 1);
}

#[test]
fn sticky_returns_the_contact_to_their_last_agent_when_eligible() {
    let settings = RoutingSettings {
        sticky: true,
        ..RoutingSettings::default()
    };
    let mut a1 = agent(1, 5, 0);
    a1.last_assigned_at = 9;
    let a2 = agent(2, 5, 0);
    let mut w = waiting(10, 0);
    w.last_agent = Some(1);
    let p = run(
        10,
        std::slice::from_ref(&w),
        &[a1.clone(), a2.clone()],
        settings.clone(),
    );
    assert_eq!(assigned(&p), vec![(10, 1, Reason::Sticky)]);

    // The last agent is full: fall back to the mode.
    a1.load = 5;
    let p = run(
        10,
        std::slice::from_ref(&w),
        &[a1.clone(), a2.clone()],
        settings,
    );
    assert_eq!(assigned(&p), vec![(10, 2, Reason::RoundRobin)]);

    // Sticky off: round robin picks agent 2 (assigned longer ago).
    a1.load = 0;
    let p = run(10, &[w], &[a1, a2], RoutingSettings::default());
    assert_eq!(assigned(&p), vec![(10, 2, Reason::RoundRobin)]);
}

#[test]
fn required_skills_are_ignored_after_the_fallback_wait() {
    let settings = RoutingSettings {
        skill_fallback_after_secs: Some(120),
        ..RoutingSettings::default()
    };
    let generalist = agent(1, 5, 0);
    let mut specialist = agent(2, 5, 0);
    specialist.skills = set(&["loans", "zh"]);
    specialist.load = 5;
    let mut w = waiting(10, 0);
    w.skills = set(&["loans"]);
    let agents = [generalist, specialist.clone()];

    let p = run(119_999, std::slice::from_ref(&w), &agents, settings.clone());
    assert!(p.assignments.is_empty(), "the generalist lacks the skill");
    let p = run(120_000, std::slice::from_ref(&w), &agents, settings.clone());
    assert_eq!(assigned(&p), vec![(10, 1, Reason::RoundRobin)]);

    // A free specialist is chosen over generalists before the fallback.
    specialist.load = 0;
    let p = run(0, &[w], &[agent(1, 5, 0), specialist], settings);
    assert_eq!(assigned(&p), vec![(10, 2, Reason::RoundRobin)]);
}

#[test]
fn unassignable_conversations_overflow_after_the_wait_and_not_to_their_own_team() {
    let settings = RoutingSettings {
        overflow_team_id: Some(7),
        overflow_after_secs: Some(300),
        ..RoutingSettings::default()
    };
    let full = agent(1, 1, 1);
    let w = [waiting(10, 0), waiting(11, 1)];
    let p = run(300_000, &w, std::slice::from_ref(&full), settings.clone());
    assert_eq!(
        p.overflows,
        vec![Overflow {
            conversation_id: 10,
            to_team: 7
        }]
    );
    let queued: Vec<i64> = p.queue.iter().map(|q| q.conversation_id).collect();
    assert_eq!(queued, vec![11]);
    assert_eq!(p.queue.first().map(|q| q.position), Some(1));

    // Already in team 7 (whose own settings name team 7): stays queued.
    let mut in_team = waiting(12, 0);
    in_team.team_id = Some(7);
    let team_settings = BTreeMap::from([(7, settings)]);
    let p = plan(&Input {
        now_ms: 1_000_000,
        waiting: &[in_team],
        agents: &[full],
        inbox_settings: &BTreeMap::new(),
        team_settings: &team_settings,
        open_inboxes: &[1].into(),
        avg_handle_ms: &BTreeMap::new(),
    });
    assert!(p.overflows.is_empty());
    assert_eq!(p.queue.len(), 1);
}

#[test]
fn least_load_prefers_the_smallest_share_of_capacity() {
    let settings = RoutingSettings {
        mode: Mode::LeastLoad,
        ..RoutingSettings::default()
    };
    // 2/10 < 1/3 < 1/2; ties at equal share go to the one assigned longer ago.
    let a1 = agent(1, 2, 1);
    let a2 = agent(2, 3, 1);
    let mut a3 = agent(3, 10, 2);
    a3.last_assigned_at = 50;
    let p = run(
        100,
        &[waiting(10, 0)],
        &[a1.clone(), a2.clone(), a3.clone()],
        settings.clone(),
    );
    assert_eq!(assigned(&p), vec![(10, 3, Reason::LeastLoad)]);

    // Four in one plan, loads moving as assigned: 3 (2/10), 3 (3/10), 2 (1/3), 3 (4/10).
    let w: Vec<Waiting> = (10..14).map(|i| waiting(i, i)).collect();
    let p = run(100, &w, &[a1, a2, a3], settings);
    let agents: Vec<i64> = p.assignments.iter().map(|a| a.agent_id).collect();
    assert_eq!(agents, vec![3, 3, 2, 3]);
}

#[test]
fn team_conversations_use_team_members_and_team_settings() {
    let mut member = agent(1, 5, 0);
    member.inboxes = BTreeSet::new();
    member.teams = [3].into();
    let inbox_only = agent(2, 5, 0);
    let mut w = waiting(10, 0);
    w.team_id = Some(3);
    w.last_agent = Some(1);
    let team_settings = BTreeMap::from([(
        3,
        RoutingSettings {
            sticky: true,
            ..RoutingSettings::default()
        },
    )]);
    let p = plan(&Input {
        now_ms: 0,
        waiting: &[w],
        agents: &[inbox_only, member],
        inbox_settings: &BTreeMap::new(),
        team_settings: &team_settings,
        open_inboxes: &[1].into(),
        avg_handle_ms: &BTreeMap::new(),
    });
    assert_eq!(assigned(&p), vec![(10, 1, Reason::Sticky)]);
}

#[test]
fn closed_inboxes_keep_their_queue_and_do_not_overflow() {
    let settings = RoutingSettings {
        overflow_team_id: Some(7),
        ..RoutingSettings::default()
    };
    let inbox_settings = BTreeMap::from([(1, settings)]);
    let p = plan(&Input {
        now_ms: 10_000_000,
        waiting: &[waiting(10, 0), waiting(11, 0)],
        agents: &[agent(1, 5, 0)],
        inbox_settings: &inbox_settings,
        team_settings: &BTreeMap::new(),
        open_inboxes: &BTreeSet::new(),
        avg_handle_ms: &BTreeMap::new(),
    });
    assert!(p.assignments.is_empty() && p.overflows.is_empty());
    let positions: Vec<(i64, u32)> = p
        .queue
        .iter()
        .map(|q| (q.conversation_id, q.position))
        .collect();
    assert_eq!(positions, vec![(10, 1), (11, 2)]);
}

#[test]
fn wait_estimate_is_rounds_of_online_members_times_average_handling_time() {
    // Two online members (both full), one offline: 5 waiting → rounds 1,1,2,2,3.
    let mut off = agent(3, 5, 0);
    off.presence = Presence::Offline;
    let agents = [agent(1, 1, 1), agent(2, 1, 1), off];
    let w: Vec<Waiting> = (10..15).map(|i| waiting(i, i)).collect();
    let avg = BTreeMap::from([(QueueKey::Inbox(1), 60_000)]);
    let p = plan(&Input {
        now_ms: 0,
        waiting: &w,
        agents: &agents,
        inbox_settings: &BTreeMap::new(),
        team_settings: &BTreeMap::new(),
        open_inboxes: &[1].into(),
        avg_handle_ms: &avg,
    });
    let est: Vec<i64> = p.queue.iter().map(|q| q.estimated_wait_ms).collect();
    assert_eq!(est, vec![60_000, 60_000, 120_000, 120_000, 180_000]);

    // No online member and no recorded average: one default handling time per position.
    let p = run(0, &w[..2], &[], RoutingSettings::default());
    let est: Vec<i64> = p.queue.iter().map(|q| q.estimated_wait_ms).collect();
    assert_eq!(est, vec![DEFAULT_AVG_HANDLE_MS, 2 * DEFAULT_AVG_HANDLE_MS]);
}

#[test]
fn duplicate_ids_in_the_snapshot_count_once() {
    let w = [waiting(10, 0), waiting(10, 0)];
    let p = run(
        0,
        &w,
        &[agent(1, 5, 0), agent(1, 5, 4)],
        RoutingSettings::default(),
    );
    assert_eq!(assigned(&p), vec![(10, 1, Reason::RoundRobin)]);
    assert!(p.queue.is_empty());
}
