//! Permissions, administrator classes, the built-in roles and data scopes.
//!
//! A role is a set of permissions. Some permissions belong to one of the three administrator
//! classes of 等保三级's separation of duties (system, security, audit). A role may carry
//! permissions of at most one class, and a user's roles together may too: nobody can both run the
//! system and audit it. Everything here is pure; the store persists roles and the HTTP layer
//! checks permissions and scopes on every route.

use std::collections::BTreeSet;

use serde::Serialize;
use utoipa::ToSchema;

/// The three administrator classes that must stay with different people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AdminClass {
    /// Users, teams, channels, settings (系统管理员).
    System,
    /// Roles, security policies, keys (安全管理员).
    Security,
    /// Reading and exporting the audit log (审计管理员).
    Audit,
}

macro_rules! permissions {
    ($($(#[$m:meta])* $name:ident = $text:literal, $class:expr;)*) => {
        /// One permission. Its text form (`users:write`) is what roles store and the API shows.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Permission {
            $($(#[$m])* $name,)*
        }

        impl Permission {
            pub const ALL: &'static [Permission] = &[$(Permission::$name,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Permission::$name => $text,)*
                }
            }

            /// The administrator class this permission belongs to, if any.
            pub fn admin_class(self) -> Option<AdminClass> {
                match self {
                    $(Permission::$name => $class,)*
                }
            }
        }
    };
}

use AdminClass::{Audit, Security, System};

permissions! {
    /// Read conversations and messages in scope.
    ConversationsRead = "conversations:read", None;
    /// Reply to, resolve and label conversations in scope.
    ConversationsReply = "conversations:reply", None;
    /// Assign and transfer conversations in scope.
    ConversationsAssign = "conversations:assign", None;
    /// Every conversation regardless of team or inbox (no scope limit).
    ConversationsAll = "conversations:all", None;
    ContactsRead = "contacts:read", None;
    ContactsWrite = "contacts:write", None;
    /// See contacts' PII unmasked (every reveal is audited).
    PiiReveal = "pii:reveal", None;
    ReportsRead = "reports:read", None;
    TeamsRead = "teams:read", None;
    UsersRead = "users:read", None;
    RolesRead = "roles:read", None;
    ChannelsRead = "channels:read", None;
    SettingsRead = "settings:read", None;
    UsersWrite = "users:write", Some(System);
    TeamsWrite = "teams:write", Some(System);
    ChannelsWrite = "channels:write", Some(System);
    SettingsWrite = "settings:write", Some(System);
    RolesWrite = "roles:write", Some(Security);
    /// Give roles that carry administrator permissions.
    RolesAssignAdmin = "roles:assign_admin", Some(Security);
    KeysManage = "keys:manage", Some(Security);
    AuditRead = "audit:read", Some(Audit);
    AuditExport = "audit:export", Some(Audit);
}

impl Permission {
    pub fn parse(s: &str) -> Option<Permission> {
        Self::ALL.iter().copied().find(|p| p.as_str() == s)
    }
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The administrator classes a set of permissions touches.
pub fn admin_classes<'a>(perms: impl IntoIterator<Item = &'a Permission>) -> BTreeSet<AdminClass> {
    perms.into_iter().filter_map(|p| p.admin_class()).collect()
}

/// A set of permissions may touch at most one administrator class.
pub fn check_separation<'a>(
    perms: impl IntoIterator<Item = &'a Permission>,
) -> Result<Option<AdminClass>, SeparationError> {
    let classes = admin_classes(perms);
    let mut it = classes.iter().copied();
    match (it.next(), it.next()) {
        (first, None) => Ok(first),
        (Some(a), Some(b)) => Err(SeparationError(a, b)),
        (None, Some(_)) => Ok(None),
    }
}

/// Two administrator classes that may not be combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the {0:?} and {1:?} administrator duties must be held by different people")]
pub struct SeparationError(pub AdminClass, pub AdminClass);

/// A role shipped with Atrium. Its permissions are re-applied on every start; only
/// `require_totp` is editable.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinRole {
    pub name: &'static str,
    pub description: &'static str,
    pub permissions: &'static [Permission],
}

impl BuiltinRole {
    /// Administrator roles require a second factor unless a security admin turns it off.
    pub fn default_require_totp(&self) -> bool {
        !admin_classes(self.permissions).is_empty()
    }
}

use Permission as P;

pub const BUILTIN_ROLES: &[BuiltinRole] = &[
    BuiltinRole {
        name: "agent",
        description: "Answers conversations of their teams and inboxes",
        permissions: &[
            P::ConversationsRead,
            P::ConversationsReply,
            P::ContactsRead,
            P::ContactsWrite,
            P::TeamsRead,
        ],
    },
    BuiltinRole {
        name: "supervisor",
        description: "Leads teams: assigns and transfers, reads reports, may reveal PII",
        permissions: &[
            P::ConversationsRead,
            P::ConversationsReply,
            P::ConversationsAssign,
            P::ContactsRead,
            P::ContactsWrite,
            P::PiiReveal,
            P::ReportsRead,
            P::TeamsRead,
            P::UsersRead,
        ],
    },
    BuiltinRole {
        name: "sysadmin",
        description: "System administrator: users, teams, channels and settings",
        permissions: &[
            P::UsersRead,
            P::UsersWrite,
            P::TeamsRead,
            P::TeamsWrite,
            P::ChannelsRead,
            P::ChannelsWrite,
            P::SettingsRead,
            P::SettingsWrite,
            P::RolesRead,
        ],
    },
    BuiltinRole {
        name: "secadmin",
        description: "Security administrator: roles and their assignment, security policies, keys",
        permissions: &[
            P::UsersRead,
            P::RolesRead,
            P::RolesWrite,
            P::RolesAssignAdmin,
            P::KeysManage,
            P::SettingsRead,
            P::TeamsRead,
        ],
    },
    BuiltinRole {
        name: "auditor",
        description: "Audit administrator: reads, verifies and exports the audit log; changes nothing",
        permissions: &[P::AuditRead, P::AuditExport, P::UsersRead, P::RolesRead],
    },
];

/// Which conversations, contacts and attachments a user may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// No limit (`conversations:all`).
    All,
    /// Only those of these teams and inboxes.
    Limited {
        teams: BTreeSet<i64>,
        inboxes: BTreeSet<i64>,
    },
}

impl Scope {
    /// Whether a conversation routed to `team` in `inbox` is visible.
    pub fn allows(&self, inbox: Option<i64>, team: Option<i64>) -> bool {
        match self {
            Scope::All => true,
            Scope::Limited { teams, inboxes } => {
                inbox.is_some_and(|i| inboxes.contains(&i))
                    || team.is_some_and(|t| teams.contains(&t))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_builtin_role_combines_two_admin_classes() {
        for r in BUILTIN_ROLES {
            assert!(check_separation(r.permissions).is_ok(), "{}", r.name);
        }
        let by_name = |n: &str| BUILTIN_ROLES.iter().find(|r| r.name == n).unwrap();
        assert_eq!(
            check_separation(by_name("sysadmin").permissions),
            Ok(Some(System))
        );
        assert_eq!(
            check_separation(by_name("secadmin").permissions),
            Ok(Some(Security))
        );
        assert_eq!(
            check_separation(by_name("auditor").permissions),
            Ok(Some(Audit))
        );
        assert_eq!(check_separation(by_name("agent").permissions), Ok(None));
        let mixed = [P::UsersWrite, P::AuditRead];
        assert_eq!(
            check_separation(&mixed),
            Err(SeparationError(System, Audit))
        );
    }

    #[test]
    fn permission_names_round_trip_and_are_unique() {
        let mut seen = BTreeSet::new();
        for p in Permission::ALL {
            assert!(seen.insert(p.as_str()));
            assert_eq!(Permission::parse(p.as_str()), Some(*p));
        }
        assert_eq!(Permission::parse("users:everything"), None);
    }

    #[test]
    fn auditor_holds_no_write_permission() {
        let auditor = BUILTIN_ROLES.iter().find(|r| r.name == "auditor").unwrap();
        for p in auditor.permissions {
            let s = p.as_str();
            assert!(s.ends_with(":read") || s == "audit:export", "{s}");
        }
    }

    #[test]
    fn limited_scope_needs_a_matching_team_or_inbox() {
        let s = Scope::Limited {
            teams: [1].into(),
            inboxes: [10].into(),
        };
        assert!(s.allows(Some(10), None));
        assert!(s.allows(Some(99), Some(1)));
        assert!(!s.allows(Some(99), Some(2)));
        assert!(!s.allows(None, None));
        assert!(Scope::All.allows(None, None));
    }
}
