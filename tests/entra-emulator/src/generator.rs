//! Deterministic, realistic tenants in bulk (`serve --tenants N --users M --seed S`).
//!
//! Every tenant is derived from `(seed, tenant index)` alone, so tenant 7 is the same whether
//! 10 or 200 tenants are generated, and the same seed always gives the same ids. Traits that a
//! test or a benchmark depends on are *stratified* rather than left to chance: in every run of
//! four consecutive tenants one has no Entra ID P1 and one has P1 but no trusted named location;
//! in every three one is synced from on-premises AD; in every six the portal scope is "none" once,
//! "selected" three times and "all" twice; and the four registration rates of a run of four fall
//! into the four quarters of 30%–95%.
//!
//! Memory: users hold only strings (no JSON per user), sized exactly, so one million users fit
//! in well under a gigabyte.

use serde_json::Value;

use crate::{
    seed::{
        self, MethodsPolicy, Org,
        wire::{self, BreakGlass, PortalMethods, PortalPolicy, Sku, SsprScope, Subscription},
    },
    state::{Group, Tenant, User},
};

/// How many tenants and users to generate, and from which seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GeneratorSpec {
    pub tenants: usize,
    pub users_per_tenant: usize,
    pub seed: u64,
}

/// Emergency-access accounts per generated tenant (users 1 and 2, Global Administrators,
/// members of the "Break Glass" group, excluded from every CA policy). User 0 is the named
/// Global Administrator `admin@{domain}`, the delegated admin of the portal back end (it comes
/// first so that "the first Global Administrator" is a person, not an emergency account).
pub const BREAK_GLASS_ACCOUNTS: usize = 2;

/// Indexes of the break-glass accounts in a generated tenant's `users`.
const BREAK_GLASS: std::ops::RangeInclusive<usize> = 1..=BREAK_GLASS_ACCOUNTS;

/// The generated tenants, in index order (domains `tenant0001.onmicrosoft.com`, …).
/// Tenants are built on all available cores; the result does not depend on the core count.
pub fn generate(spec: &GeneratorSpec) -> Vec<Tenant> {
    let workers = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .clamp(1, spec.tenants.max(1));
    let chunk = spec.tenants.div_ceil(workers).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..spec.tenants)
            .step_by(chunk)
            .map(|start| {
                let end = (start + chunk).min(spec.tenants);
                scope.spawn(move || {
                    (start..end)
                        .map(|index| tenant(spec, index))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// The initial domain of generated tenant `index` (0-based).
pub fn tenant_domain(index: usize) -> String {
    format!("tenant{:04}.onmicrosoft.com", index + 1)
}

// ---------------------------------------------------------------------------------------------
// Randomness: SplitMix64, small, fast and good enough for test data.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Rng(u64);

/// Independent streams derived from the same seed.
const STREAM_TENANT: u64 = 1;
const STREAM_BLOCK4: u64 = 2;
const STREAM_BLOCK3: u64 = 3;
const STREAM_BLOCK6: u64 = 4;
/// The readiness settings' own stream: drawing them leaves every other generated value as it was.
const STREAM_READINESS: u64 = 5;

impl Rng {
    fn derive(seed: u64, stream: u64, index: u64) -> Rng {
        let mut r = Rng(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        r.0 ^= r
            .next()
            .wrapping_add(index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.next();
        r
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }

    /// A version-4 GUID string (exactly 36 bytes allocated).
    fn uuid(&mut self) -> String {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next().to_le_bytes());
        let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
        let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
        String::from(&*id.hyphenated().encode_lower(&mut buf))
    }
}

/// Slot of `index` in its run of `size`, permuted per run: `perm[index % size]`.
fn stratum(seed: u64, stream: u64, index: usize, size: usize) -> usize {
    let mut rng = Rng::derive(seed, stream, (index / size) as u64);
    let mut perm: Vec<usize> = (0..size).collect();
    rng.shuffle(&mut perm);
    perm[index % size]
}

// ---------------------------------------------------------------------------------------------
// Tenant traits.
// ---------------------------------------------------------------------------------------------

/// What kind of tenant index `i` is, decided before any object is built.
struct Traits {
    premium: bool,
    trusted_location: bool,
    synced: bool,
    scope: SsprScope,
    /// Share of enabled members who registered enough methods for SSPR.
    registration_rate: f64,
}

fn traits(spec: &GeneratorSpec, index: usize, rng: &mut Rng) -> Traits {
    let s = spec.seed;
    // Run of four: 0 = no P1, 1 = P1 without trusted location, 2 and 3 = P1 with one.
    let kind = stratum(s, STREAM_BLOCK4, index, 4);
    // The registration-rate quarter uses its own permutation of the same run.
    let quarter = stratum(s, STREAM_BLOCK4 + 100, index, 4);
    let scope = match stratum(s, STREAM_BLOCK6, index, 6) {
        0 => SsprScope::None,
        1..=3 => SsprScope::Selected,
        _ => SsprScope::All,
    };
    Traits {
        premium: kind != 0,
        trusted_location: kind >= 2,
        synced: stratum(s, STREAM_BLOCK3, index, 3) == 0,
        scope,
        registration_rate: 0.30 + 0.65 * (quarter as f64 + rng.unit()) / 4.0,
    }
}

/// Microsoft's fictitious companies, minus those the seed already uses (Contoso, Fabrikam,
/// Northwind, Tailspin Toys, and Adatum, a GDAP customer the emulator does not host): a generated
/// tenant must never be mistaken for a seeded one by name.
const COMPANIES: &[(&str, &str)] = &[
    ("Adventure Works Cycles", "adventureworks"),
    ("Alpine Ski House", "alpineskihouse"),
    ("Bellows College", "bellowscollege"),
    ("Best For You Organics", "bestforyou"),
    ("Blue Yonder Airlines", "blueyonder"),
    ("City Power & Light", "citypower"),
    ("Coho Vineyard", "cohovineyard"),
    ("Consolidated Messenger", "consolidatedmessenger"),
    ("Fourth Coffee", "fourthcoffee"),
    ("Graphic Design Institute", "graphicdesign"),
    ("Humongous Insurance", "humongousinsurance"),
    ("Lamna Healthcare", "lamnahealthcare"),
    ("Litware, Inc.", "litware"),
    ("Lucerne Publishing", "lucernepublishing"),
    ("Margie's Travel", "margiestravel"),
    ("Munson's Pickles and Preserves", "munsonspickles"),
    ("Nod Publishers", "nodpublishers"),
    ("Proseware, Inc.", "proseware"),
    ("Relecloud", "relecloud"),
    ("School of Fine Art", "fineartschool"),
    ("Southridge Video", "southridgevideo"),
    ("Tailwind Traders", "tailwindtraders"),
    ("Trey Research", "treyresearch"),
    ("VanArsdel, Ltd.", "vanarsdel"),
    ("Wide World Importers", "wideworldimporters"),
    ("Wingtip Toys", "wingtiptoys"),
    ("Woodgrove Bank", "woodgrovebank"),
];

const PLACES: &[(&str, &str, &str)] = &[
    ("US", "Seattle", "98101"),
    ("US", "Chicago", "60601"),
    ("US", "Austin", "73301"),
    ("GB", "Manchester", "M1 1AE"),
    ("DE", "München", "80331"),
    ("NL", "Utrecht", "3511"),
    ("FR", "Lyon", "69001"),
    ("AU", "Melbourne", "3000"),
    ("CA", "Toronto", "M5H"),
    ("SE", "Göteborg", "411 01"),
];

const FIRST_NAMES: &[&str] = &[
    "Adele",
    "Alex",
    "Allan",
    "Amber",
    "Anna",
    "Ben",
    "Bianca",
    "Carlos",
    "Chloe",
    "Christie",
    "Daniel",
    "Debra",
    "Diego",
    "Elena",
    "Emily",
    "Enrico",
    "Fatima",
    "Felix",
    "Grady",
    "Hana",
    "Henrietta",
    "Isaiah",
    "Ivan",
    "Jakob",
    "Johanna",
    "Joni",
    "Julia",
    "Kenji",
    "Lee",
    "Leila",
    "Lidia",
    "Lynne",
    "Mateo",
    "Megan",
    "Miriam",
    "Nestor",
    "Nora",
    "Olga",
    "Omar",
    "Patti",
    "Pradeep",
    "Priya",
    "Quinn",
    "Rafael",
    "Raul",
    "Sakura",
    "Samira",
    "Sofia",
    "Sven",
    "Tariq",
    "Tomas",
    "Uma",
    "Valentina",
    "Victor",
    "Wei",
    "Wanda",
    "Xavier",
    "Yara",
    "Yusuf",
    "Zoe",
    "Aiko",
    "Bruno",
    "Chen",
    "Dmitri",
];

const LAST_NAMES: &[&str] = &[
    "Vance",
    "Wilber",
    "Deyoung",
    "Bowen",
    "Siciliani",
    "Langer",
    "Robbins",
    "Wilke",
    "Gupta",
    "Fernandez",
    "Lorenz",
    "Archie",
    "Holloway",
    "Graham",
    "Sherman",
    "Brown",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Rossi",
    "Schmidt",
    "Dubois",
    "Jansen",
    "Kowalski",
    "Lindqvist",
    "Murphy",
    "Novak",
    "O'Brien",
    "Papadopoulos",
    "Quintero",
    "Rahman",
    "Silva",
    "Tanaka",
    "Ueda",
    "Varga",
    "Walker",
    "Xu",
    "Yilmaz",
    "Zhang",
    "Andersen",
    "Bauer",
    "Costa",
    "Diaz",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ibrahim",
    "Jones",
    "Kim",
    "Lopez",
    "Moreau",
    "Nguyen",
    "Olsen",
    "Patel",
    "Reyes",
    "Singh",
    "Torres",
    "Ulrich",
    "Vogel",
    "Weber",
    "Young",
    "Zimmermann",
    "Hughes",
];

/// Admin roles by rough prevalence among the few admins a tenant has.
const ADMIN_ROLES: &[&str] = &[
    "Global Administrator",
    "Global Administrator",
    "Helpdesk Administrator",
    "Helpdesk Administrator",
    "User Administrator",
    "Authentication Administrator",
    "Security Administrator",
    "Exchange Administrator",
    "Privileged Authentication Administrator",
];

/// Extra methods users register beyond what SSPR needs.
const EXTRA_METHODS: &[&str] = &[
    "alternateMobilePhone",
    "fido2SecurityKey",
    "windowsHelloForBusiness",
    "officePhone",
    "email",
    "mobilePhone",
    "microsoftAuthenticatorPush",
    "softwareOneTimePasscode",
];

/// Methods that do not count for SSPR: what an unregistered user may still have.
const NON_SSPR_METHODS: &[&str] = &[
    "temporaryAccessPass",
    "windowsHelloForBusiness",
    "fido2SecurityKey",
];

const GUEST_DOMAINS: &[&str] = &["gmail.com", "outlook.com", "contoso.com", "fabrikam.com"];

// ---------------------------------------------------------------------------------------------
// One tenant.
// ---------------------------------------------------------------------------------------------

fn tenant(spec: &GeneratorSpec, index: usize) -> Tenant {
    let mut rng = Rng::derive(spec.seed, STREAM_TENANT, index as u64);
    let tr = traits(spec, index, &mut rng);
    let (company, slug) = COMPANIES[index % COMPANIES.len()];
    let round = index / COMPANIES.len();
    let display_name = if round == 0 {
        company.to_string()
    } else {
        format!("{company} ({})", round + 1)
    };
    let custom_domain = format!("{slug}{:04}.com", index + 1);
    let mut t = Tenant {
        id: rng.uuid(),
        domain: tenant_domain(index),
        display_name,
        premium: tr.premium,
        synced: tr.synced,
        ..Tenant::default()
    };

    let methods_required: u8 = if rng.chance(0.5) { 2 } else { 1 };
    let portal = portal_methods(&mut rng, methods_required);
    t.users = users(
        &mut rng,
        &t.domain,
        spec.users_per_tenant,
        &tr,
        &portal,
        methods_required,
    );
    let bg = BreakGlass {
        user_ids: t
            .users
            .iter()
            .enumerate()
            .filter(|(i, _)| BREAK_GLASS.contains(i))
            .map(|(_, u)| u.id.clone())
            .collect(),
        group_id: rng.uuid(),
    };
    let sspr_group = rng.uuid();
    t.groups = groups(&mut rng, &t.users, &bg, &sspr_group, tr.scope);

    let subscriptions = subscriptions(&mut rng, &t, tr.premium);
    let account_id = rng.uuid();
    t.subscribed_skus = subscriptions
        .iter()
        .map(|s| wire::subscribed_sku(&t.id, (&account_id, &t.display_name), s))
        .collect();
    let (country, city, postal) = *rng.pick(PLACES);
    let created = format!(
        "{}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        2015 + rng.below(10),
        1 + rng.below(12),
        1 + rng.below(28),
        rng.below(24),
        rng.below(60),
        rng.below(60)
    );
    let last_sync = format!("2026-08-20T09:{:02}:{:02}Z", rng.below(60), rng.below(60));
    let mut org = seed::organization(Org {
        id: &t.id,
        display_name: &t.display_name,
        initial_domain: &t.domain,
        custom_domain: &custom_domain,
        country,
        city,
        created: &created,
        plans: wire::assigned_plans(&subscriptions, &created),
        last_sync: tr.synced.then_some(last_sync.as_str()),
    });
    org["postalCode"] = Value::from(postal);
    org["businessPhones"] = Value::from(vec![format!("+1 555 01{:02}", index % 100)]);
    t.organization = org;

    t.authentication_methods_policy = methods_policy(&mut rng, &bg.group_id);
    t.authorization_policy = seed::authorization_policy(rng.chance(0.85));
    t.service_principals = vec![
        seed::graph_principal(&rng.uuid()),
        seed::graph_app_principal(&rng.uuid()),
    ];

    let mut readiness = Rng::derive(spec.seed, STREAM_READINESS, index as u64);
    if tr.premium {
        t.named_locations = named_locations(&mut rng, tr.trusted_location);
        t.conditional_access_policies = ca_policies(&mut rng, tr.trusted_location, &bg);
        if tr.trusted_location && readiness.chance(0.6) {
            let state =
                *readiness.pick(&["enabled", "enabled", "enabledForReportingButNotEnforced"]);
            t.conditional_access_policies.push(registration_protection(
                &readiness.uuid(),
                state,
                &bg,
            ));
        }
    }
    let helpdesk = format!("https://help.{custom_domain}/");
    t.password_reset_policies = wire::password_reset_policies(&PortalPolicy {
        scope: tr.scope,
        group: Some((&sspr_group, "SSPR Users")),
        methods_required,
        methods: portal,
        reconfirm_days: *rng.pick(&[0, 90, 180, 180, 365]),
        notify_users: rng.chance(0.8),
        notify_admins: readiness.chance(0.7),
        registration_required: readiness.chance(0.85),
        helpdesk_url: rng.chance(0.2).then_some(helpdesk.as_str()),
    });
    // Writeback needs P1; a synced tenant without it has the integration but no writeback.
    let connector = tr.synced.then(|| rng.uuid());
    let writeback = tr.premium && rng.chance(0.8);
    let unlock = writeback && rng.chance(0.6);
    t.on_premises_password_reset_policies =
        wire::on_premises_policies(connector.as_deref(), writeback, unlock);
    wire::fill_security(&mut t, 3);
    // The Windows sign-in link: stratified over pass, warn, fail, unlicensed and blocked.
    seed::intune::set_windows_link(&mut t, seed::intune::generated_link(index));
    t
}

/// The portal's method toggles, with at least `required` of them on (the portal refuses less).
fn portal_methods(rng: &mut Rng, required: u8) -> PortalMethods {
    let mut m = PortalMethods {
        email: rng.chance(0.75),
        mobile_phone: rng.chance(0.85),
        office_phone: rng.chance(0.1),
        // Off everywhere: the shape of the questions list is unverified (graph-api.md §2.3).
        security_questions: false,
        app_notification: rng.chance(0.7),
        app_code: rng.chance(0.6),
    };
    if m.count() < usize::from(required) {
        m.mobile_phone = true;
        m.email = true;
    }
    m
}

/// A string sized exactly (users are many; `format!` over-allocates).
fn exact(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        s.push_str(p);
    }
    s
}

fn users(
    rng: &mut Rng,
    domain: &str,
    count: usize,
    tr: &Traits,
    portal: &PortalMethods,
    required: u8,
) -> Vec<User> {
    let sspr_methods = portal.registration_strings();
    // A bijection of 0..4096 onto name pairs per window, so names repeat only with a suffix.
    let pairs = FIRST_NAMES.len() * LAST_NAMES.len();
    let offset = rng.below(pairs);
    let stride = 2 * rng.below(pairs / 2) + 1;
    // A few admins whatever the size: the named admin, two more right after it, then 0.4%.
    const ADMIN_RATE: f64 = 0.004;
    let forced_admins = BREAK_GLASS_ACCOUNTS + 1..BREAK_GLASS_ACCOUNTS + 3;
    let mut users = Vec::with_capacity(count);
    for i in 0..count {
        let mut u = User {
            id: rng.uuid(),
            user_type: String::from("Member"),
            account_enabled: true,
            ..User::default()
        };
        let registered = if i == 0 {
            // The tenant's named admin: the delegated admin of the portal back end.
            u.display_name = String::from("Tenant Admin");
            u.user_principal_name = exact(&["admin@", domain]);
            u.directory_roles = vec![String::from("Global Administrator")];
            true
        } else if BREAK_GLASS.contains(&i) {
            let n = format!("{i:02}");
            u.display_name = exact(&["Break Glass ", &n]);
            u.user_principal_name = exact(&["breakglass", &n, "@", domain]);
            u.directory_roles = vec![String::from("Global Administrator")];
            u.methods_registered = vec![String::from("fido2SecurityKey")];
            users.push(u);
            continue;
        } else {
            let c = (offset + i * stride) % pairs;
            let (first, last) = (
                FIRST_NAMES[c / LAST_NAMES.len()],
                LAST_NAMES[c % LAST_NAMES.len()],
            );
            let alias = exact(&[
                &first.to_ascii_lowercase(),
                ".",
                &last.to_ascii_lowercase().replace('\'', ""),
            ]);
            let window = i / pairs;
            let suffix = if window == 0 {
                String::new()
            } else {
                window.to_string()
            };
            u.display_name = exact(&[first, " ", last]);
            let forced_admin = forced_admins.contains(&i);
            if !forced_admin && rng.chance(0.05) {
                let home = *rng.pick(GUEST_DOMAINS);
                u.user_type = String::from("Guest");
                u.user_principal_name = exact(&[&alias, &suffix, "_", home, "#EXT#@", domain]);
                u.methods_registered = Vec::new();
                users.push(u);
                continue;
            }
            u.user_principal_name = exact(&[&alias, &suffix, "@", domain]);
            u.account_enabled = forced_admin || !rng.chance(0.02);
            if forced_admin || rng.chance(ADMIN_RATE) {
                u.directory_roles = vec![String::from(*rng.pick(ADMIN_ROLES))];
            }
            let rate = if u.directory_roles.is_empty() {
                tr.registration_rate
            } else {
                tr.registration_rate.max(0.9)
            };
            rng.chance(rate)
        };
        let methods = if registered {
            registered_methods(rng, &sspr_methods, required)
        } else {
            unregistered_methods(rng, &sspr_methods, required)
        };
        let mut preferred = wire::preferred_for(&methods);
        if preferred == "push" && methods.contains(&"mobilePhone") && rng.chance(0.15) {
            preferred = "sms";
        }
        u.preferred_method = String::from(preferred);
        u.methods_registered = methods.iter().map(|m| String::from(*m)).collect();
        users.push(u);
    }
    users
}

/// `required` methods the portal accepts, plus sometimes one or two others.
fn registered_methods(rng: &mut Rng, sspr: &[&'static str], required: u8) -> Vec<&'static str> {
    let mut pool = sspr.to_vec();
    rng.shuffle(&mut pool);
    let mut methods: Vec<&'static str> = pool.into_iter().take(usize::from(required)).collect();
    // The Authenticator app registers push and a code together most of the time.
    if methods.contains(&"microsoftAuthenticatorPush")
        && !methods.contains(&"softwareOneTimePasscode")
        && rng.chance(0.7)
    {
        methods.push("softwareOneTimePasscode");
    }
    for _ in 0..usize::from(rng.chance(0.5)) + usize::from(rng.chance(0.15)) {
        let extra = *rng.pick(EXTRA_METHODS);
        if !methods.contains(&extra) {
            methods.push(extra);
        }
    }
    methods
}

/// Most unregistered users have nothing; some have fewer SSPR methods than required, or only
/// methods SSPR does not accept.
fn unregistered_methods(rng: &mut Rng, sspr: &[&'static str], required: u8) -> Vec<&'static str> {
    if !rng.chance(0.3) {
        return Vec::new();
    }
    if required >= 2 && !sspr.is_empty() {
        vec![*rng.pick(sspr)]
    } else {
        vec![*rng.pick(NON_SSPR_METHODS)]
    }
}

fn groups(
    rng: &mut Rng,
    users: &[User],
    bg: &BreakGlass,
    sspr_group: &str,
    scope: SsprScope,
) -> Vec<Group> {
    let staff: Vec<&User> = users
        .iter()
        .enumerate()
        .filter(|(i, u)| !BREAK_GLASS.contains(i) && u.user_type == "Member")
        .map(|(_, u)| u)
        .collect();
    // The SSPR group covers most staff when it is the portal's scope, fewer when it is a
    // leftover from an earlier pilot.
    let coverage = match scope {
        SsprScope::Selected => 0.5 + 0.45 * rng.unit(),
        _ => 0.2 + 0.5 * rng.unit(),
    };
    let mut sspr_members = Vec::with_capacity((staff.len() as f64 * coverage) as usize + 1);
    for u in &staff {
        if rng.chance(coverage) {
            sspr_members.push(u.id.clone());
        }
    }
    sspr_members.shrink_to_fit();
    vec![
        seed::group(sspr_group, "SSPR Users", sspr_members),
        seed::group(
            &rng.uuid(),
            "All Staff",
            staff.iter().map(|u| u.id.clone()).collect(),
        ),
        seed::group(&bg.group_id, "Break Glass", bg.user_ids.clone()),
    ]
}

fn subscriptions(rng: &mut Rng, t: &Tenant, premium: bool) -> Vec<Subscription> {
    const PREMIUM_BUNDLES: &[&[Sku]] = &[
        &[wire::SKU_SPB],
        &[wire::SKU_SPB],
        &[wire::SKU_SPB, wire::SKU_EXCHANGE_STANDARD],
        &[wire::SKU_SPE_E3],
        &[wire::SKU_SPE_E5],
        &[wire::SKU_BUSINESS_STANDARD, wire::SKU_AAD_PREMIUM],
        &[wire::SKU_ENTERPRISEPACK, wire::SKU_AAD_PREMIUM_P2],
    ];
    const BASIC_BUNDLES: &[&[Sku]] = &[
        &[wire::SKU_BUSINESS_BASIC],
        &[wire::SKU_BUSINESS_STANDARD],
        &[wire::SKU_BUSINESS_STANDARD, wire::SKU_EXCHANGE_STANDARD],
        &[wire::SKU_STANDARDPACK],
        &[wire::SKU_ENTERPRISEPACK],
    ];
    let bundle = if premium {
        *rng.pick(PREMIUM_BUNDLES)
    } else {
        *rng.pick(BASIC_BUNDLES)
    };
    let members = t.users.iter().filter(|u| u.user_type == "Member").count();
    bundle
        .iter()
        .enumerate()
        .map(|(n, sku)| {
            // The main product covers everyone; an add-on covers a few.
            let wanted = if n == 0 {
                members
            } else {
                members.div_ceil(10)
            };
            let prepaid = (wanted + 1 + rng.below(wanted / 10 + 5)).div_ceil(5) * 5;
            Subscription {
                sku: *sku,
                prepaid: i32::try_from(prepaid).unwrap_or(i32::MAX),
                consumed: i32::try_from(wanted).unwrap_or(i32::MAX),
                subscription_id: rng.uuid(),
            }
        })
        .collect()
}

fn methods_policy(rng: &mut Rng, bg_group: &str) -> Value {
    let migration = *rng.pick(&["preMigration", "migrationInProgress", "migrationComplete"]);
    let on = |rng: &mut Rng, p: f64| if rng.chance(p) { "enabled" } else { "disabled" };
    let methods = vec![
        seed::authenticator(on(rng, 0.9), &[bg_group]),
        seed::sms(on(rng, 0.5), "all_users"),
        seed::voice(on(rng, 0.2), false),
        seed::email(on(rng, 0.4), "all_users", &[]),
        seed::software_oath(on(rng, 0.2)),
        seed::fido2(on(rng, 0.5)),
        seed::tap(on(rng, 0.5), "all_users"),
        seed::x509("disabled"),
    ];
    let last_modified = format!(
        "2026-0{}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
        1 + rng.below(7),
        1 + rng.below(28),
        rng.below(24),
        rng.below(60),
        rng.below(60),
        rng.below(10_000_000)
    );
    let reconfirmation = [None, Some(90), Some(180), Some(365)];
    let campaign = *rng.pick(&["default", "enabled", "disabled"]);
    seed::methods_policy(MethodsPolicy {
        migration_state: migration,
        version: if migration == "preMigration" {
            "1.4"
        } else {
            "1.5"
        },
        last_modified: &last_modified,
        reconfirmation_in_days: *rng.pick(&reconfirmation),
        campaign_state: campaign,
        campaign_excludes: &[bg_group],
        methods,
    })
}

/// A public-looking IPv4 /24–/28 (first octets from ordinary ISP space).
fn ipv4_range(rng: &mut Rng) -> String {
    let first = *rng.pick(&[
        20u8, 40, 51, 62, 77, 81, 85, 91, 94, 145, 185, 193, 194, 212, 213, 217,
    ]);
    let prefix = 24 + rng.below(5);
    let host_bits = 32 - prefix;
    let last = (rng.below(256) >> host_bits) << host_bits;
    format!(
        "{first}.{}.{}.{last}/{prefix}",
        rng.below(256),
        rng.below(256)
    )
}

fn named_locations(rng: &mut Rng, trusted: bool) -> Vec<Value> {
    let created = format!(
        "2024-{:02}-{:02}T10:{:02}:00.0000000Z",
        1 + rng.below(12),
        1 + rng.below(28),
        rng.below(60)
    );
    let mut out = Vec::new();
    if trusted {
        let mut ranges = vec![ipv4_range(rng)];
        if rng.chance(0.4) {
            ranges.push(ipv4_range(rng));
        }
        if rng.chance(0.3) {
            ranges.push(format!("2001:db8:{:x}::/48", rng.below(0xffff)));
        }
        out.push(wire::ip_location(
            &rng.uuid(),
            "Head office",
            true,
            &ranges,
            &created,
        ));
        if rng.chance(0.4) {
            let branches: Vec<String> = (0..1 + rng.below(3)).map(|_| ipv4_range(rng)).collect();
            out.push(wire::ip_location(
                &rng.uuid(),
                "Branch offices",
                true,
                &branches,
                &created,
            ));
        }
    }
    if rng.chance(0.5) {
        let name = *rng.pick(&["Guest Wi-Fi", "Known VPN exits", "Partner network"]);
        out.push(wire::ip_location(
            &rng.uuid(),
            name,
            false,
            &[ipv4_range(rng)],
            &created,
        ));
    }
    if rng.chance(0.4) {
        out.push(wire::country_location(
            &rng.uuid(),
            "Blocked countries",
            &["KP", "IR", "SY", "CU", "RU"][..3 + rng.below(3)],
            &created,
        ));
    }
    out
}

fn ca_policies(rng: &mut Rng, trusted: bool, bg: &BreakGlass) -> Vec<Value> {
    let created = |rng: &mut Rng| {
        format!(
            "2025-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
            1 + rng.below(12),
            1 + rng.below(28),
            rng.below(24),
            rng.below(60),
            rng.below(60),
            rng.below(10_000_000)
        )
    };
    let mut out = vec![wire::mfa_for_admins(&rng.uuid(), &created(rng), bg)];
    if rng.chance(0.7) {
        out.push(wire::block_legacy_auth(&rng.uuid(), &created(rng), bg));
    }
    if trusted && rng.chance(0.4) {
        let state = *rng.pick(&["enabledForReportingButNotEnforced", "enabled"]);
        out.push(wire::mfa_outside_trusted(
            &rng.uuid(),
            state,
            &created(rng),
            bg,
        ));
    }
    out
}

/// A Conditional Access policy on security-info registration, as an admin would make it: MFA
/// for everyone outside the trusted locations, the emergency accounts excluded.
fn registration_protection(id: &str, state: &str, bg: &BreakGlass) -> Value {
    let mut policy = wire::mfa_outside_trusted(id, state, "2025-11-03T08:00:00Z", bg);
    policy["displayName"] = Value::from("Protect security info registration");
    let applications = &mut policy["conditions"]["applications"];
    applications["includeApplications"] = Value::from(Vec::<String>::new());
    applications["includeUserActions"] = Value::from(vec!["urn:user:registersecurityinfo"]);
    policy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic_and_stream_separated() {
        let a: Vec<u64> = (0..4).map(|_| Rng::derive(7, 1, 3).next()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(Rng::derive(7, 1, 3).next(), Rng::derive(7, 2, 3).next());
        assert_ne!(Rng::derive(7, 1, 3).next(), Rng::derive(8, 1, 3).next());
        let id = Rng::derive(1, 1, 1).uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(id.capacity(), 36);
        assert_eq!(&id[14..15], "4", "version 4: {id}");
    }

    #[test]
    fn strata_are_permutations_of_each_run() {
        for run in 0..5 {
            let mut slots: Vec<usize> = (0..4).map(|i| stratum(9, 2, run * 4 + i, 4)).collect();
            slots.sort_unstable();
            assert_eq!(slots, vec![0, 1, 2, 3]);
        }
    }
}
