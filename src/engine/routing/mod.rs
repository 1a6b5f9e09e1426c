//! Routing: which waiting conversation goes to which agent, decided by pure functions of a
//! snapshot (no IO, no clock reads, no SQL). The dispatcher reads the snapshot, calls
//! [`plan`] and applies the result; [`BusinessHours`] tells it which inboxes are open.
//!
//! # The rules of [`plan`]
//!
//! - **Service order.** Waiting conversations are served VIP first, then by higher priority,
//!   then the one queued earlier, then the lower conversation id ([`service_order`]), so the
//!   plan is deterministic and does not depend on the order of the input.
//! - **Settings.** A conversation with a team is routed by its team's [`RoutingSettings`] and
//!   queues in the team ([`QueueKey::Team`]); one without, by its inbox's settings, queuing
//!   in the inbox ([`QueueKey::Inbox`]). Missing settings are the defaults.
//! - **Business hours.** A conversation whose inbox is not in `open_inboxes` is neither
//!   assigned nor overflowed; it keeps its place in the queue.
//! - **Eligible agents.** Online, with `load < capacity` (counting assignments made earlier in
//!   the same plan, so capacity is never exceeded), a member of the conversation's team (or,
//!   without a team, of its inbox), and holding every required skill, unless the
//!   conversation has waited at least `skill_fallback_after_secs` (then skills are ignored).
//! - **Sticky.** With `sticky` on and the contact's last agent eligible, that agent is chosen
//!   ([`Reason::Sticky`]).
//! - **Round robin** (default): the eligible agent assigned longest ago (`last_assigned_at`),
//!   ties to the smaller load, then the lower id. An assignment moves the agent's
//!   `last_assigned_at` to `now_ms` and behind the agents already given one in this plan, so
//!   one plan spreads its work in turn. The dispatcher applies a plan by setting each
//!   assigned agent's `last_assigned_at` to `now_ms`; the load tie-break keeps the turns fair
//!   across plans although that loses the order within a plan.
//! - **Least load**: the smallest `load / capacity` (compared exactly by cross-multiplying),
//!   then as round robin.
//! - **Overflow.** A conversation that got no agent, whose settings name an
//!   `overflow_team_id` other than its current team, and that has waited at least
//!   `overflow_after_secs` (absent: 0), is listed in [`Plan::overflows`]. The dispatcher moves
//!   it; it is routed there by a later plan and is not also queued in this one. The
//!   dispatcher decides whether moving resets `queued_at`; two teams overflowing into each
//!   other move a conversation back and forth once per plan if it does not.
//! - **Queue.** Every other conversation gets a [`QueueEntry`]: positions 1..n per queue in
//!   service order, and an estimated wait of
//!   `ceil(position / max(1, online members of the queue)) × average handling time`, where
//!   online members count regardless of capacity and skills and the average handling time
//!   comes from `avg_handle_ms` (missing: [`DEFAULT_AVG_HANDLE_MS`]). The estimate ignores
//!   when a closed inbox opens again.
//!
//! Each waiting conversation appears exactly once in the plan: assigned, overflowed or queued.

mod hours;
mod policy;
#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;

pub use hours::BusinessHours;
pub use policy::{
    Agent, Assignment, DEFAULT_AVG_HANDLE_MS, Input, MessageContext, Mode, Overflow, Plan,
    Presence, QueueEntry, QueueKey, Reason, RoutingSettings, SkillRule, Waiting, plan,
    service_order,
};
