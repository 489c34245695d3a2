//! `sspr commands`: the command tree tools check their calls against (the PowerShell module's
//! static checks) must be the one the binary accepts: every command in it runs (`--help`), every
//! flag it lists is in that command's help and every flag of the help is in it.

mod common;

use std::collections::BTreeSet;

use serde_json::Value;

/// The tree, read without any credential and with the service unreachable.
async fn tree() -> Value {
    let run = common::sspr(&["--url", "http://127.0.0.1:9/", "commands"], &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).expect("the tree is JSON")
}

/// Every node of the tree below the root, depth first.
fn commands(node: &Value) -> Vec<&Value> {
    let mut all = Vec::new();
    for sub in node["subcommands"].as_array().expect("subcommands") {
        all.push(sub);
        all.extend(commands(sub));
    }
    all
}

fn path(node: &Value) -> Vec<&str> {
    node["path"]
        .as_array()
        .expect("path")
        .iter()
        .map(|word| word.as_str().expect("a word"))
        .collect()
}

fn longs(node: &Value) -> BTreeSet<String> {
    node["flags"]
        .as_array()
        .expect("flags")
        .iter()
        .filter_map(|flag| flag["long"].as_str().map(str::to_owned))
        .collect()
}

/// The `--flag` of each option line of a help text (`  -y, --yes` or `      --tenant <TENANT>`;
/// deeper lines are descriptions, which may mention other flags).
fn help_flags(help: &str) -> BTreeSet<String> {
    help.lines()
        .filter_map(|line| {
            let option = line.trim_start();
            (option.starts_with('-') && line.len() - option.len() <= 6).then_some(option)
        })
        .filter_map(|line| {
            line.split([' ', ','])
                .find(|word| word.starts_with("--"))
                .map(|word| word.split('=').next().unwrap_or(word).to_owned())
        })
        .collect()
}

fn find<'a>(tree: &'a Value, wanted: &[&str]) -> &'a Value {
    commands(tree)
        .into_iter()
        .find(|node| path(node) == wanted)
        .unwrap_or_else(|| panic!("no `sspr {}` in the tree", wanted.join(" ")))
}

fn flag<'a>(node: &'a Value, long: &str) -> &'a Value {
    node["flags"]
        .as_array()
        .expect("flags")
        .iter()
        .find(|flag| flag["long"] == long)
        .unwrap_or_else(|| panic!("no {long} on `sspr {}`", path(node).join(" ")))
}

#[tokio::test]
async fn every_command_and_flag_of_the_tree_is_the_binarys() {
    let tree = tree().await;
    let globals = longs(&tree);
    for global in [
        "--url",
        "--token",
        "--auth",
        "--output",
        "--help",
        "--version",
    ] {
        assert!(globals.contains(global), "{global}: {globals:?}");
    }
    let all = commands(&tree);
    assert!(all.len() > 25, "{} commands", all.len());
    for node in all {
        let words = path(node);
        assert_ne!(words.last(), Some(&"help"), "clap's help is no command");
        let mut args = words.clone();
        args.push("--help");
        let run = common::sspr(&args, &[]).await;
        assert_eq!(run.code, 0, "`sspr {}`: {}", words.join(" "), run.stderr);
        let help = run.stdout;
        let in_help = help_flags(&help);
        // The help of a subcommand lists the global options too; the tree lists them once, at
        // the root, so that is where they are looked up.
        let mut in_tree = longs(node);
        in_tree.extend(globals.iter().filter(|g| in_help.contains(*g)).cloned());
        assert_eq!(
            in_tree,
            in_help,
            "`sspr {}`: the tree's flags differ from the help's",
            words.join(" ")
        );
    }
}

#[tokio::test]
async fn flags_say_what_they_take() {
    let tree = tree().await;

    let output = flag(&tree, "--output");
    assert_eq!(output["global"], true);
    assert_eq!(output["takesValue"], true);
    assert_eq!(output["values"], serde_json::json!(["json", "table"]));
    assert_eq!(output["env"], "SSPR_OUTPUT");

    let set = find(&tree, &["policy", "set"]);
    let tenant = flag(set, "--tenant");
    assert_eq!(tenant["required"], true);
    assert_eq!(tenant["env"], "SSPR_TENANT");
    let yes = flag(set, "--yes");
    assert_eq!(yes["takesValue"], false);
    assert_eq!(yes["short"], "-y");
    assert!(
        !longs(set).contains("--url"),
        "a global flag is listed only at the root"
    );

    let outcome = flag(find(&tree, &["audit", "list"]), "--outcome");
    let values: Vec<&str> = outcome["values"]
        .as_array()
        .expect("values")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(values.contains(&"rolledBack"), "{values:?}");

    let tags = flag(find(&tree, &["tenants", "add"]), "--tag");
    assert_eq!(tags["repeatable"], true);
    let tenants = flag(find(&tree, &["registrations", "summary"]), "--tenants");
    assert_eq!(tenants["valueDelimiter"], ",");
}

#[tokio::test]
async fn the_tree_carries_the_binarys_version() {
    let version = common::sspr(&["--version"], &[]).await.stdout;
    let tree = tree().await;
    assert_eq!(
        version.trim(),
        format!("sspr {}", tree["version"].as_str().expect("a version"))
    );
}
