//! The configuration the README shows is one the service accepts: a renamed or misspelled key
//! there would otherwise only be found by the first operator who copies it.

use sspr_service::Config;

#[test]
fn the_readme_configuration_example_loads() {
    let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"));
    let section = readme
        .split("## Running the service for real")
        .nth(1)
        .expect("the README has the section");
    let toml = section
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the section has a TOML example");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("sspr.toml");
    std::fs::write(&path, toml).expect("writes");
    let config = Config::load(Some(&path)).unwrap_or_else(|e| panic!("{e}\n---\n{toml}"));
    assert_eq!(config.tenants.len(), 1);
    assert_eq!(config.registrations.fleet_concurrency, 16);
    assert_eq!(config.graph.limits.reports_per_tenant.requests, 5);
    // The README says its [server] values are the defaults.
    assert_eq!(
        config.server,
        sspr_service::config::ServerConfig::default(),
        "the README's [server] example differs from the defaults"
    );
}
