//! Membership roles and what each may do (viewer < member < admin < owner).

use crate::enum_macro::text_enum;

text_enum! {
    /// A member's role in a client; ordered by power.
    #[derive(PartialOrd, Ord)]
    pub enum Role {
        /// Reads everything.
        Viewer => "viewer",
        /// Also creates and edits campaigns, leads, approvals, replies.
        Member => "member",
        /// Also manages members, resources, webhooks, settings, deletions.
        Admin => "admin",
        /// Everything.
        Owner => "owner",
    }
}

impl Role {
    /// True when this role is `min` or more powerful.
    pub fn at_least(self, min: Role) -> bool {
        self >= min
    }

    /// Every role may read.
    pub fn can_read(self) -> bool {
        self.at_least(Role::Viewer)
    }

    /// Member and above may create and edit.
    pub fn can_write(self) -> bool {
        self.at_least(Role::Member)
    }

    /// Admin and above may manage members, resources, settings and deletions.
    pub fn can_admin(self) -> bool {
        self.at_least(Role::Admin)
    }

    /// Only the owner.
    pub fn is_owner(self) -> bool {
        self == Role::Owner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering_and_helpers() {
        assert!(
            Role::Viewer < Role::Member && Role::Member < Role::Admin && Role::Admin < Role::Owner
        );
        assert!(Role::Viewer.can_read() && !Role::Viewer.can_write());
        assert!(Role::Member.can_write() && !Role::Member.can_admin());
        assert!(Role::Admin.can_admin() && !Role::Admin.is_owner());
        assert!(Role::Owner.can_admin() && Role::Owner.is_owner());
        assert!(Role::Admin.at_least(Role::Member));
        assert!(!Role::Member.at_least(Role::Admin));
    }

    #[test]
    fn text_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().ok(), Some(*role));
            assert_eq!(
                serde_json::to_string(role).unwrap_or_default(),
                format!("\"{}\"", role.as_str())
            );
        }
        assert!("Owner".parse::<Role>().is_err());
    }
}
