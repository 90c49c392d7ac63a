//! Word lists for generated names. Invented; any resemblance to real firms is accidental.

pub const COMPANY_A: &[&str] = &[
    "Globex",
    "Initech",
    "Northwind",
    "Bluewater",
    "Stonebridge",
    "Maplecrest",
    "Ironwood",
    "Silverline",
    "Redpath",
    "Cedar Ridge",
    "Lakeshore",
    "Granite Peak",
    "Harbourfront",
    "Summit",
    "Oakridge",
    "Pinecrest",
    "Riverside",
    "Westbrook",
    "Eastgate",
    "Clearwater",
];

pub const COMPANY_B: &[&str] = &[
    "Logistics",
    "Properties",
    "Manufacturing",
    "Retail Group",
    "Holdings",
    "Hospitality",
    "Developments",
    "Foods",
    "Health Partners",
    "Storage",
];

pub const SITES: &[&str] = &[
    "HQ Lobby",
    "Warehouse",
    "Parking Garage",
    "Distribution Centre",
    "Head Office",
    "Plant 2",
    "Loading Dock",
    "Data Centre",
    "North Campus",
    "Mall Entrance",
];

pub const FIRST: &[&str] = &[
    "Ana", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Iris", "Jamal", "Keiko",
    "Liam", "Maya", "Noah", "Olivia", "Priya", "Quinn", "Rosa", "Samir", "Tara", "Umar", "Vera",
    "Wes", "Yara", "Zoe",
];

pub const LAST: &[&str] = &[
    "Diaz", "Nguyen", "Tremblay", "Singh", "Roy", "Campbell", "Kowalski", "Okafor", "Martin",
    "Chen", "Gagnon", "Smith", "Haddad", "Lee", "Bouchard", "Patel", "Murphy", "Silva", "Wong",
    "Fraser",
];
