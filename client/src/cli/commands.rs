//! `sspr commands`: the command line's own tree (every command, subcommand and flag) as JSON,
//! read from clap's definition, so that tools wrapping the CLI (the PowerShell module's static
//! checks) can check what they pass against what the binary accepts, and never drift from it.

use clap::{Arg, ArgAction};
use serde_json::{Value, json};

/// The tree of `command` (the built `sspr` command): its flags, then each subcommand's, nested.
/// Global flags are listed once, on the root, with `"global": true`: every subcommand takes them.
pub fn tree(command: &clap::Command) -> Value {
    let mut command = command.clone();
    // Building adds what clap adds at parse time (--help, --version), so the tree is what the
    // binary really accepts.
    command.build();
    let mut root = node(&command, &[], true);
    root["version"] = json!(command.get_version().unwrap_or_default());
    root
}

fn node(command: &clap::Command, path: &[String], root: bool) -> Value {
    let flags: Vec<Value> = command
        .get_arguments()
        // A global flag shows up again in every built subcommand; its root entry says it all.
        .filter(|arg| root || !arg.is_global_set())
        .map(flag)
        .collect();
    let subcommands: Vec<Value> = command
        .get_subcommands()
        // clap's `help` subcommand only prints help: not an operation of the CLI.
        .filter(|sub| sub.get_name() != "help")
        .map(|sub| {
            let mut here = path.to_vec();
            here.push(sub.get_name().to_owned());
            node(sub, &here, false)
        })
        .collect();
    json!({
        "name": command.get_name(),
        "path": path,
        "about": command.get_about().map(ToString::to_string),
        "flags": flags,
        "subcommands": subcommands,
    })
}

fn flag(arg: &Arg) -> Value {
    let takes_value = arg.get_action().takes_values();
    let values: Vec<String> = if takes_value {
        arg.get_possible_values()
            .iter()
            .filter(|value| !value.is_hide_set())
            .map(|value| value.get_name().to_owned())
            .collect()
    } else {
        Vec::new()
    };
    json!({
        "id": arg.get_id().as_str(),
        "long": arg.get_long().map(|long| format!("--{long}")),
        "short": arg.get_short().map(|short| format!("-{short}")),
        "positional": arg.is_positional(),
        "takesValue": takes_value,
        "repeatable": matches!(arg.get_action(), ArgAction::Append | ArgAction::Count),
        "valueDelimiter": arg.get_value_delimiter().map(String::from),
        "values": values,
        "required": arg.is_required_set(),
        "global": arg.is_global_set(),
        "env": arg.get_env().map(|env| env.to_string_lossy().into_owned()),
        "help": arg.get_help().map(ToString::to_string),
    })
}
