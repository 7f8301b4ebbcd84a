//! [`KnownUsers`]: the users this process has recently ensured a `users` row for, so the
//! [`crate::extract::AuthUser`] extractor runs `users::ensure` (a look-up, and an insert on
//! first sight) only for a user it has not seen within the TTL instead of on every request.
//!
//! Bounded (at most `capacity` users; when full, expired entries go first, then the one
//! closest to expiry) and short-lived (`USER_CACHE_TTL_SECS`, 60 s by default; 0 turns the
//! memory off). What it remembers (the stored email and `is_platform_admin`) can therefore be
//! up to one TTL old: granting or revoking platform admin (`agencyctl users`) takes effect on
//! this process within the TTL. Memberships are never remembered: the tenant check reads them
//! on every request, so a removed member loses access at once.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use uuid::Uuid;

/// Default number of users remembered.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// What is remembered of a user whose row exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownUser {
    /// The email stored for the user.
    pub email: Option<String>,
    /// Operator of the platform (as of when the row was read).
    pub is_platform_admin: bool,
}

/// A bounded, TTL-limited map of user id (JWT `sub`) to [`KnownUser`].
#[derive(Debug)]
pub struct KnownUsers {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<Uuid, (KnownUser, Instant)>>,
}

impl KnownUsers {
    /// A memory of at most `capacity` users for `ttl` each (a zero TTL or capacity remembers
    /// nothing).
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Whether anything is remembered at all.
    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero() && self.capacity > 0
    }

    /// The user `id` if seen within the TTL.
    pub fn get(&self, id: Uuid) -> Option<KnownUser> {
        self.get_at(id, Instant::now())
    }

    /// Remembers `user` for one TTL from now.
    pub fn insert(&self, id: Uuid, user: KnownUser) {
        self.insert_at(id, user, Instant::now());
    }

    /// Forgets the user `id` (for a change made by this process).
    pub fn forget(&self, id: Uuid) {
        self.lock().remove(&id);
    }

    /// How many users are remembered (expired ones included until they are swept).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no user is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, (KnownUser, Instant)>> {
        // The map holds no invariant a panic could break mid-update.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get_at(&self, id: Uuid, now: Instant) -> Option<KnownUser> {
        if !self.enabled() {
            return None;
        }
        let mut entries = self.lock();
        match entries.get(&id) {
            Some((user, expires)) if *expires > now => Some(user.clone()),
            Some(_) => {
                entries.remove(&id);
                None
            }
            None => None,
        }
    }

    fn insert_at(&self, id: Uuid, user: KnownUser, now: Instant) {
        if !self.enabled() {
            return;
        }
        let mut entries = self.lock();
        if entries.len() >= self.capacity && !entries.contains_key(&id) {
            entries.retain(|_, (_, expires)| *expires > now);
            if entries.len() >= self.capacity {
                let soonest = entries
                    .iter()
                    .min_by_key(|(_, (_, expires))| *expires)
                    .map(|(k, _)| *k);
                if let Some(k) = soonest {
                    entries.remove(&k);
                }
            }
        }
        entries.insert(id, (user, now + self.ttl));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(admin: bool) -> KnownUser {
        KnownUser {
            email: Some("a@example.com".into()),
            is_platform_admin: admin,
        }
    }

    #[test]
    fn remembers_within_the_ttl_and_forgets_after() {
        let known = KnownUsers::new(Duration::from_secs(60), 10);
        let id = Uuid::now_v7();
        let t0 = Instant::now();
        assert_eq!(known.get_at(id, t0), None);
        known.insert_at(id, user(true), t0);
        assert_eq!(
            known.get_at(id, t0 + Duration::from_secs(59)),
            Some(user(true))
        );
        assert_eq!(known.get_at(id, t0 + Duration::from_secs(60)), None);
        // The expired entry was swept on the miss.
        assert!(known.is_empty());
    }

    #[test]
    fn never_holds_more_than_its_capacity() {
        let known = KnownUsers::new(Duration::from_secs(60), 3);
        let t0 = Instant::now();
        let ids: Vec<Uuid> = (0..5).map(|_| Uuid::now_v7()).collect();
        for (i, id) in ids.iter().enumerate() {
            known.insert_at(*id, user(false), t0 + Duration::from_secs(i as u64));
            assert!(known.len() <= 3);
        }
        let now = t0 + Duration::from_secs(5);
        // The entries closest to expiry (the oldest) made room for the newest.
        assert_eq!(known.get_at(ids[0], now), None);
        assert_eq!(known.get_at(ids[1], now), None);
        for id in &ids[2..] {
            assert_eq!(known.get_at(*id, now), Some(user(false)));
        }
    }

    #[test]
    fn expired_entries_make_room_first() {
        let known = KnownUsers::new(Duration::from_secs(10), 2);
        let t0 = Instant::now();
        let (old, live, new) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        known.insert_at(old, user(false), t0);
        known.insert_at(live, user(false), t0 + Duration::from_secs(8));
        known.insert_at(new, user(true), t0 + Duration::from_secs(11));
        let now = t0 + Duration::from_secs(12);
        assert_eq!(known.get_at(old, now), None);
        assert_eq!(known.get_at(live, now), Some(user(false)));
        assert_eq!(known.get_at(new, now), Some(user(true)));
    }

    #[test]
    fn a_zero_ttl_remembers_nothing_and_forget_works() {
        let off = KnownUsers::new(Duration::ZERO, 10);
        let id = Uuid::now_v7();
        off.insert(id, user(false));
        assert!(!off.enabled());
        assert_eq!(off.get(id), None);
        let on = KnownUsers::new(Duration::from_secs(60), 10);
        on.insert(id, user(false));
        assert_eq!(on.get(id), Some(user(false)));
        on.forget(id);
        assert_eq!(on.get(id), None);
    }
}
