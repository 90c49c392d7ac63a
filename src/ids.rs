//! Newtype ids, so a tenant id can never be passed where a staff id belongs.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type)]
        #[sqlx(transparent)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// One TrackTik portal and everything it owns.
    TenantId
);
uuid_id!(
    /// A support staff account.
    StaffUserId
);
uuid_id!(
    /// Someone from a tenant who signed in with TrackTik.
    TenantUserId
);
uuid_id!(
    /// One QuickBooks Online company connected by a tenant.
    IntegrationId
);
uuid_id!(
    /// One OAuth connection (TrackTik portal or QuickBooks company).
    ConnectionId
);
