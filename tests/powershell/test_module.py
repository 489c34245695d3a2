"""Static checks of the PowerShell module SsprAdmin, for machines without PowerShell.

Parsed with tree-sitter-powershell; the CLI's own command tree comes from `sspr commands`. They
fail on: a file that does not parse, a manifest export without its file in Public/ (or a file
not exported), a flag or command the CLI does not have, a ValidateSet offering a word its flag
does not take, a CLI operation without a cmdlet, and an example (in the help or the READMEs)
naming a cmdlet or parameter that does not exist.
"""

import json
import os
import re
import subprocess
import xml.etree.ElementTree as ElementTree
from functools import cache
from pathlib import Path

import pytest
import tree_sitter_powershell
from tree_sitter import Language, Parser

ROOT = Path(__file__).resolve().parents[2]
POWERSHELL = ROOT / "powershell"
MODULE = POWERSHELL / "SsprAdmin"
PUBLIC = MODULE / "Public"
PRIVATE = MODULE / "Private"
README = POWERSHELL / "README.md"

# `sspr commands` describes the command line; it is no operation a cmdlet should wrap.
NOT_OPERATIONS = {("commands",)}

# Get-Verb of PowerShell 7.4, the verbs a cmdlet may use.
APPROVED_VERBS = set(
    """Add Clear Close Copy Enter Exit Find Format Get Hide Join Lock Move New Open Optimize Pop
    Push Redo Remove Rename Reset Resize Search Select Set Show Skip Split Step Switch Undo Unlock
    Watch Connect Disconnect Read Receive Send Write Backup Checkpoint Compare Compress Convert
    ConvertFrom ConvertTo Dismount Edit Expand Export Group Import Initialize Limit Merge Mount Out
    Publish Restore Save Sync Unpublish Update Approve Assert Build Complete Confirm Deny Deploy
    Disable Enable Install Invoke Register Request Restart Resume Start Stop Submit Suspend
    Uninstall Unregister Wait Debug Measure Ping Repair Resolve Test Trace Block Grant Protect
    Revoke Unblock Unprotect Use""".split()
)
# Verbs that only read: every other verb changes something and must ask first.
READING_VERBS = {"Get", "Compare", "Test", "New", "Connect", "Disconnect"}

COMMON_PARAMETERS = {
    name.lower()
    for name in """Verbose Debug ErrorAction WarningAction InformationAction ProgressAction
    ErrorVariable WarningVariable InformationVariable OutVariable OutBuffer PipelineVariable""".split()
}
SHOULD_PROCESS_PARAMETERS = {"whatif", "confirm"}

PARSER = Parser(Language(tree_sitter_powershell.language()))


@cache
def parse(path: Path):
    return PARSER.parse(path.read_bytes())


def walk(node):
    yield node
    for child in node.children:
        yield from walk(child)


def text(node) -> str:
    return node.text.decode("utf-8")


def literal(node) -> str | None:
    """The value of a string literal without variables in it ('x' or "x"), else None."""
    if node.type != "string_literal":
        return None
    raw = text(node)
    if raw.startswith("'") and raw.endswith("'"):
        return raw[1:-1].replace("''", "'")
    if raw.startswith('"') and raw.endswith('"') and "$" not in raw:
        return raw[1:-1]
    return None


def powershell_files():
    return sorted(
        p for p in POWERSHELL.rglob("*") if p.suffix in {".ps1", ".psm1", ".psd1"} and p.is_file()
    )


def syntax_errors(tree) -> list[str]:
    return [
        f"line {n.start_point[0] + 1}: {text(n)[:60]!r}"
        for n in walk(tree.root_node)
        if n.type == "ERROR" or n.is_missing
    ]


# --- the CLI ----------------------------------------------------------------------------------


@cache
def cli_tree() -> dict:
    binary = os.environ.get("SSPR_CLI", str(ROOT / "target" / "debug" / "sspr"))
    if not Path(binary).is_file():
        pytest.fail(f"no sspr binary at {binary}: run `cargo build -p sspr-client` (or set SSPR_CLI)")
    output = subprocess.run(
        [binary, "commands"], capture_output=True, check=True, env={"PATH": os.environ.get("PATH", "")}
    )
    return json.loads(output.stdout)


def cli_nodes(node=None):
    node = node or cli_tree()
    for sub in node["subcommands"]:
        yield sub
        yield from cli_nodes(sub)


def cli_leaves() -> dict[tuple, dict]:
    return {tuple(n["path"]): n for n in cli_nodes() if not n["subcommands"]}


def global_flags() -> dict[str, dict]:
    """The root's flags: the global ones, and --help and --version."""
    return {f["long"]: f for f in cli_tree()["flags"] if f["long"]}


# --- the module's files -----------------------------------------------------------------------


def functions(path: Path):
    return [n for n in walk(parse(path).root_node) if n.type == "function_statement"]


def function_name(function) -> str:
    return text(next(c for c in function.children if c.type == "function_name"))


def help_comment(function) -> str:
    for child in function.children:
        if child.type == "comment" and text(child).startswith("<#"):
            return text(child)
    return ""


def parameters(function) -> dict[str, set[str]]:
    """Each parameter of the function's param block (lower case) with its aliases."""
    found = {}
    for node in walk(function):
        if node.type != "script_parameter":
            continue
        variable = next(c for c in node.children if c.type == "variable")
        aliases = set()
        for attribute in walk(node):
            if attribute.type != "attribute":
                continue
            name = next((c for c in attribute.children if c.type == "attribute_name"), None)
            if name is not None and text(name).lower() == "alias":
                aliases |= {v.lower() for v in map(literal, walk(attribute)) if v}
        found[text(variable).lstrip("$").lower()] = aliases
        # Nested script blocks have their own params; the function's come first, once.
    return found


def cmdlet_binding(function) -> str:
    for node in walk(function):
        if node.type == "attribute" and "CmdletBinding" in text(node):
            return text(node)
    return ""


@cache
def public_functions() -> dict[str, object]:
    found = {}
    for path in sorted(PUBLIC.glob("*.ps1")):
        for function in functions(path):
            found[function_name(function)] = function
    return found


def commands_called(path: Path) -> set[str]:
    return {
        text(n.children[0]) for n in walk(parse(path).root_node) if n.type == "command" and n.children
    }


def argument_arrays(path: Path):
    """Every @(...) in the file, as its elements: the literal value, or None for an expression."""
    for node in walk(parse(path).root_node):
        if node.type != "array_expression":
            continue
        elements = []
        for inner in walk(node):
            if inner.type == "unary_expression" and inner.parent is not None:
                # Only the array's own elements: unary expressions directly in its list.
                owner = inner.parent
                while owner is not None and owner.type != "array_expression":
                    owner = owner.parent
                if owner != node or inner.parent.type != "array_literal_expression":
                    continue
                strings = [c for c in inner.children if c.type == "string_literal"]
                elements.append((literal(strings[0]) if strings else None, inner))
        yield node, elements


def own_paths(path: Path) -> list[tuple[int, tuple]]:
    """The CLI commands the file's argument arrays name, with where each starts: an array whose
    first literals are a command (`@('policy', 'get', ...)`)."""
    tops = {n["name"] for n in cli_tree()["subcommands"]}
    found = []
    for node, elements in argument_arrays(path):
        words = []
        for value, _ in elements:
            if value is None or value.startswith("-"):
                break
            words.append(value)
        if words and words[0] in tops:
            found.append((node.start_byte, tuple(words)))
    return found


def module_files():
    return sorted(PUBLIC.glob("*.ps1")) + sorted(PRIVATE.glob("*.ps1"))


def paths_for(path: Path, seen=None) -> set[tuple]:
    """The CLI commands a file's flags are passed to: its own, or for a helper with none, those
    of every file that calls one of its functions."""
    own = {words for _, words in own_paths(path)}
    if own:
        return own
    seen = (seen or set()) | {path}
    names = {function_name(f) for f in functions(path)}
    result = set()
    for other in module_files():
        if other not in seen and names & commands_called(other):
            result |= paths_for(other, seen)
    return result


def flag_literals(path: Path):
    """Every '--flag' element of the file's argument arrays, with its start and the element
    after it in the same array: its value when literal, and its node."""
    for _, elements in argument_arrays(path):
        for index, (value, node) in enumerate(elements):
            if value and value.startswith("--"):
                following, following_node = elements[index + 1] if index + 1 < len(elements) else (None, None)
                yield node, value, following, following_node


def flag_targets(path: Path):
    """Each flag of the file with the CLI commands it goes to: the command of the nearest
    argument array before it, or for a helper, those of the files calling it."""
    own = own_paths(path)
    inherited = paths_for(path) if not own else set()
    for node, flag, following, following_node in flag_literals(path):
        if own:
            before = [words for start, words in own if start <= node.start_byte]
            targets = {before[-1]} if before else {own[0][1]}
        else:
            targets = inherited
        yield node, flag, following, following_node, targets


def validate_sets(function) -> dict[str, list[str]]:
    """The [ValidateSet(...)] values of each parameter (lower case) that has one."""
    found = {}
    for node in walk(function):
        if node.type != "script_parameter":
            continue
        variable = text(next(c for c in node.children if c.type == "variable")).lstrip("$").lower()
        for attribute in walk(node):
            name = next((c for c in attribute.children if c.type == "attribute_name"), None)
            if attribute.type == "attribute" and name is not None and text(name).lower() == "validateset":
                found[variable] = [v for v in map(literal, walk(attribute)) if v is not None]
    return found


def stray_flags(path: Path) -> list[str]:
    """'--flag' literals outside an argument array, which the flag check could not place."""
    in_arrays = {node.start_byte for node, _, _, _ in flag_literals(path)}
    return [
        f"{path.name} line {n.start_point[0] + 1}: {literal(n)} is not in a literal argument array"
        for n in walk(parse(path).root_node)
        if n.type == "string_literal"
        and (literal(n) or "").startswith("--")
        and n.start_byte not in in_arrays
    ]


# --- the checks -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", powershell_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_powershell_file_parses(path):
    errors = syntax_errors(parse(path))
    assert not errors, f"{path.relative_to(ROOT)} does not parse: {errors}"


def manifest_entry(name: str):
    tree = parse(MODULE / "SsprAdmin.psd1")
    for node in walk(tree.root_node):
        if node.type == "hash_entry":
            key = next(c for c in node.children if c.type == "key_expression")
            if text(key) == name:
                return node
    pytest.fail(f"the manifest has no {name}")


def test_the_manifest_exports_exactly_the_files_of_public():
    entry = manifest_entry("FunctionsToExport")
    exported = [literal(n) for n in walk(entry) if n.type == "string_literal"]
    assert all(exported), "FunctionsToExport is a list of literal names"
    assert not [e for e in exported if re.search(r"[*?]", e)], f"wildcards: {exported}"
    files = sorted(p.stem for p in PUBLIC.glob("*.ps1"))
    missing_files = sorted(set(exported) - set(files))
    not_exported = sorted(set(files) - set(exported))
    assert not missing_files, f"exported without a file in Public/: {missing_files}"
    assert not not_exported, f"files of Public/ not exported: {not_exported}"
    assert len(exported) == len(set(exported)), f"exported twice: {exported}"


def test_the_manifest_declares_core_7_2_and_the_cli_version():
    def value(name):
        return [literal(n) for n in walk(manifest_entry(name)) if n.type == "string_literal"]

    assert value("PowerShellVersion") == ["7.2"]
    assert value("CompatiblePSEditions") == ["Core"]
    assert value("FormatsToProcess") == ["SsprAdmin.Format.ps1xml"]
    assert value("ModuleVersion") == [cli_tree()["version"]], "the module's version is the CLI's"


@pytest.mark.parametrize("path", sorted(PUBLIC.glob("*.ps1")), ids=lambda p: p.stem)
def test_each_public_file_defines_its_one_function_with_help(path):
    defined = functions(path)
    assert [function_name(f) for f in defined] == [path.stem], "one function, named as its file"
    function = defined[0]
    verb = path.stem.split("-")[0]
    assert verb in APPROVED_VERBS, f"{verb} is not an approved verb (Get-Verb)"
    assert re.match(r"^[A-Z][a-z]+-Sspr[A-Za-z]*$", path.stem), "Verb-SsprNoun"
    help_text = help_comment(function)
    assert ".SYNOPSIS" in help_text, "comment-based help with a synopsis"
    assert ".EXAMPLE" in help_text, "comment-based help with an example"
    documented = {m.lower() for m in re.findall(r"^\s*\.PARAMETER\s+(\w+)", help_text, re.M)}
    undocumented = sorted(set(parameters(function)) - documented)
    assert not undocumented, f"parameters without .PARAMETER help: {undocumented}"
    binding = cmdlet_binding(function)
    assert binding, "an advanced function ([CmdletBinding()])"
    if verb not in READING_VERBS:
        assert "SupportsShouldProcess" in binding and "ConfirmImpact = 'High'" in binding, (
            f"{path.stem} changes something: SupportsShouldProcess, ConfirmImpact = 'High'"
        )


def test_every_argument_array_names_a_cli_command():
    leaves = cli_leaves()
    wrong = []
    for path in module_files():
        for _, words in own_paths(path):
            if words not in leaves:
                wrong.append(f"{path.name}: sspr {' '.join(words)}")
    assert not wrong, f"no such CLI command: {wrong}"


def test_every_flag_the_module_passes_exists_on_its_command():
    leaves = cli_leaves()
    globals_ = global_flags()
    wrong = []
    checked = 0
    for path in module_files():
        for _, flag, following, _, targets in flag_targets(path):
            if not targets:
                wrong.append(f"{path.name}: {flag} goes to no CLI command")
            for words in targets:
                flags = {f["long"]: f for f in leaves.get(words, {"flags": []})["flags"] if f["long"]}
                known = flags.get(flag) or globals_.get(flag)
                checked += 1
                if known is None:
                    wrong.append(f"{path.name}: sspr {' '.join(words)} has no {flag}")
                    continue
                values = known["values"]
                if values and following is not None and not following.startswith("-"):
                    if following not in values:
                        wrong.append(f"{path.name}: {flag} {following} (takes {values})")
    assert checked > 50, f"only {checked} flags found: is the check still reading the module?"
    for path in module_files():
        wrong += stray_flags(path)
    assert not wrong, "flags the CLI does not have:\n" + "\n".join(wrong)


def test_validate_sets_offer_only_values_the_cli_takes():
    """A parameter whose value goes to a flag with a fixed vocabulary ([ValidateSet] then
    `'--flag', $Parameter`) offers only words of that vocabulary."""
    leaves = cli_leaves()
    wrong = []
    checked = 0
    for path in module_files():
        for _, flag, _, following_node, targets in flag_targets(path):
            if following_node is None:
                continue
            match = re.match(r"^\$(\w+)$|^\$Bound\['(\w+)'\]$", text(following_node))
            if not match:
                continue
            parameter = (match.group(1) or match.group(2)).lower()
            for words in targets:
                known = {f["long"]: f for f in leaves[words]["flags"] if f["long"]}.get(flag)
                if known is None or not known["values"]:
                    continue
                # The cmdlets whose own arguments go to this command declare the parameter.
                for public in sorted(PUBLIC.glob("*.ps1")):
                    if words not in {w for _, w in own_paths(public)}:
                        continue
                    for function in functions(public):
                        offered = validate_sets(function).get(parameter)
                        if offered is None:
                            continue
                        checked += 1
                        extra = sorted(set(offered) - set(known["values"]))
                        if extra:
                            wrong.append(
                                f"{public.stem} -{parameter} offers {extra}, which "
                                f"sspr {' '.join(words)} {flag} does not take ({known['values']})"
                            )
    assert checked >= 15, f"only {checked} ValidateSets checked: is the check still reading the module?"
    assert not wrong, "\n".join(wrong)


def test_every_cli_operation_has_a_cmdlet():
    covered = set()
    for path in sorted(PUBLIC.glob("*.ps1")):
        covered |= {words for _, words in own_paths(path)}
    missing = sorted(set(cli_leaves()) - covered - NOT_OPERATIONS)
    assert not missing, "no cmdlet runs: " + ", ".join("sspr " + " ".join(m) for m in missing)


def example_blocks():
    """(where, code) of every example: each .EXAMPLE of the public help, and each powershell
    block of the module's README and of the project's."""
    blocks = []
    for name, function in sorted(public_functions().items()):
        sections = re.split(r"^\s*\.(?=[A-Z]+\b)", help_comment(function), flags=re.M)
        for number, section in enumerate(s for s in sections if s.startswith("EXAMPLE")):
            # The code runs to the first blank line; what follows is the example's remarks.
            code = "\n".join(line.strip() for line in section.splitlines()[1:]).strip()
            code = code.split("\n\n")[0]
            blocks.append((f"{name} example {number + 1}", code))
    for readme in (README, ROOT / "README.md"):
        found = re.findall(r"```powershell\n(.*?)```", readme.read_text(encoding="utf-8"), re.S)
        for number, code in enumerate(found):
            blocks.append((f"{readme.relative_to(ROOT)} block {number + 1}", code))
    return blocks


def test_examples_use_only_cmdlets_and_parameters_that_exist():
    cmdlets = public_functions()
    blocks = example_blocks()
    assert len([b for b in blocks if "README" in b[0]]) >= 5, "the READMEs have examples"
    wrong = []
    used = 0
    for where, code in blocks:
        tree = PARSER.parse(code.encode("utf-8"))
        errors = syntax_errors(tree)
        if errors:
            wrong.append(f"{where} does not parse: {errors}")
            continue
        for command in (n for n in walk(tree.root_node) if n.type == "command"):
            name = text(command.children[0])
            if not re.match(r"^[A-Za-z]+-Sspr", name):
                continue
            used += 1
            function = cmdlets.get(name)
            if function is None:
                wrong.append(f"{where}: no cmdlet {name}")
                continue
            known = parameters(function)
            allowed = set(known) | set().union(*known.values()) | COMMON_PARAMETERS
            if "SupportsShouldProcess" in cmdlet_binding(function):
                allowed |= SHOULD_PROCESS_PARAMETERS
            elements = [c for c in command.children if c.type == "command_elements"]
            # Only this command's own parameters, not those of a command nested in an argument.
            given_parameters = [c for e in elements for c in e.children if c.type == "command_parameter"]
            for parameter in given_parameters:
                given = text(parameter).lstrip("-").split(":")[0].lower()
                if given not in allowed:
                    wrong.append(f"{where}: {name} has no -{given}")
    assert used > 30, f"only {used} cmdlet calls found in the examples"
    assert not wrong, "\n".join(wrong)


def test_the_format_file_has_a_whole_view_per_type_the_module_writes():
    written = set()
    for path in module_files():
        for node in walk(parse(path).root_node):
            if node.type == "command" and text(node.children[0]) == "Add-SsprTypeName":
                written |= {v for v in map(literal, walk(node)) if v and v.startswith("SsprAdmin.")}
    views = ElementTree.parse(MODULE / "SsprAdmin.Format.ps1xml").getroot().iter("View")
    for view in views:
        name = view.findtext("ViewSelectedBy/TypeName")
        assert name in written, f"a view of {name}, which no cmdlet writes"
        headers = view.findall("TableControl/TableHeaders/TableColumnHeader")
        items = view.findall("TableControl/TableRowEntries/TableRowEntry/TableColumnItems/TableColumnItem")
        assert len(headers) == len(items) > 0, f"{name}: {len(headers)} headers, {len(items)} columns"
    for needed in ("SsprAdmin.Tenant", "SsprAdmin.Registration", "SsprAdmin.RegistrationSummary", "SsprAdmin.Policy"):
        assert needed in written, f"no cmdlet writes {needed}"
