"""docs/design.md is the map, and the code keeps to it.

Its table of modules names every module of xsovs_common and no other, in
layers from the top down; no module imports a layer above its own (nor
another package of its own layer); and a module or a name in a module that
the documentation spells out (`net.model`, `controller.wanted`) exists.
"""

import ast
import os
import re

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE = os.path.join(REPO, "xsovs_common")
DESIGN = os.path.join(REPO, "docs/design.md")
DOCUMENTS = [os.path.join(REPO, "README.md")] + [
    os.path.join(REPO, "docs", name) for name in sorted(os.listdir(os.path.join(REPO, "docs")))
    if name.endswith(".md")]
SECTION = "### Modules, by layer"
ROW = re.compile(r"^\|\s*([^|]*?)\s*\|\s*`([a-z0-9_.]+)`\s*\|")


def modules(package=PACKAGE):
    """Dotted names (without ``xsovs_common.``) -> file, of every module and package."""
    found = {}
    for directory, _, names in os.walk(package):
        for name in names:
            if not name.endswith(".py"):
                continue
            path = os.path.join(directory, name)
            parts = os.path.relpath(path, package)[:-3].split(os.sep)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if parts:
                found[".".join(parts)] = path
    return found


def map_layers(text):
    """Module -> layer number (1 at the top) from the map's table of modules."""
    section = text.split(SECTION, 1)[1].split("\n#", 1)[0]
    layers, layer = {}, 0
    for line in section.splitlines():
        match = ROW.match(line)
        if not match:
            continue
        if match.group(1):
            layer += 1
        assert match.group(2) not in layers, "%s is in the table twice" % match.group(2)
        layers[match.group(2)] = layer
    return layers


def imports_of(name, path, known):
    """The modules of ``known`` that module ``name`` (its file ``path``) imports."""
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    package = name.split(".") if path.endswith("__init__.py") else name.split(".")[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = ["xsovs_common"] + package[:len(package) + 1 - node.level]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            targets = [source + "." + alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            source, targets = None, [alias.name for alias in node.names]
        else:
            continue
        for target in targets:
            if not target.startswith("xsovs_common."):
                continue
            target = target[len("xsovs_common."):]
            if target not in known and source is not None:
                target = source[len("xsovs_common."):]    # a name from a module
            if target in known:
                found.add(target)
    return found


def _home(module):
    """The package a module belongs to for the layering: its sub-package, or itself
    for a module at the top of xsovs_common."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[:2] == ["actions", "commands"] else parts[0]


def faults(layers, imports):
    """``module -> imports`` against ``layers``: the imports that run up or sideways."""
    found = []
    for module, targets in sorted(imports.items()):
        for target in sorted(targets):
            if target == module or target not in layers or module not in layers:
                continue
            if layers[target] > layers[module]:
                continue
            if layers[target] == layers[module] and _home(target) == _home(module):
                continue
            found.append("%s (layer %d) imports %s (layer %d)"
                         % (module, layers[module], target, layers[target]))
    return found


def _design_text():
    with open(DESIGN) as handle:
        return handle.read()


def test_the_table_names_every_module_and_no_other():
    named, there = set(map_layers(_design_text())), set(modules())
    assert sorted(there - named) == [], "modules missing from the table of docs/design.md"
    assert sorted(named - there) == [], "docs/design.md names modules that do not exist"


def test_no_module_imports_a_layer_above_its_own():
    known = modules()
    imports = {name: imports_of(name, path, known) for name, path in known.items()}
    assert faults(map_layers(_design_text()), imports) == []


def test_the_check_sees_an_import_that_runs_up_or_sideways():
    layers = {"actions.commands.x": 1, "actions.a": 2, "sync.s": 2, "net.n": 3, "paths": 4,
              "log": 4}
    imports = {"actions.commands.x": {"actions.a", "sync.s"},   # down: fine
               "actions.a": {"net.n", "actions.a"},            # down, itself: fine
               "net.n": {"actions.a"},                         # up
               "sync.s": {"actions.a"},                        # another package, same layer
               "actions.a ": set(), "paths": {"log"}}          # two ground modules
    assert faults(layers, imports) == [
        "net.n (layer 3) imports actions.a (layer 2)",
        "paths (layer 4) imports log (layer 4)",
        "sync.s (layer 2) imports actions.a (layer 2)"]


def test_imports_are_resolved_as_python_does(tmp_path):
    known = {"actions.reconfigure": "", "net": "", "net.model": "", "ovs.changes": "",
             "paths": "", "xapi.session": ""}
    source = tmp_path / "m.py"
    source.write_text("from .. import paths\nfrom ..net import model\n"
                      "from ..ovs.changes import ChangeSet\n"
                      "def f():\n    from ..xapi import session as xapi\n"
                      "import xsovs_common.net\n")
    assert imports_of("actions.reconfigure", str(source), known) == {
        "paths", "net.model", "ovs.changes", "xapi.session", "net"}


def _definitions(path):
    """Top-level names a module defines, with ``Class.member`` for its classes."""
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
            if isinstance(node, ast.ClassDef):
                names.update(node.name + "." + sub.name for sub in node.body
                             if isinstance(sub, (ast.FunctionDef, ast.ClassDef)))
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _resolves(words, known):
    """Whether ``words`` (a dotted name in the docs) is a module, or a name one defines."""
    if words[0] == "xsovs_common":
        words = words[1:]
    for cut in range(len(words), 0, -1):
        head, rest = ".".join(words[:cut]), ".".join(words[cut:])
        candidates = [m for m in known if m == head or m.endswith("." + head)]
        if any(not rest or rest in _definitions(known[m]) for m in candidates):
            return True
    return False


# Dotted words that are not Python: files (`network.conf`), and XAPI's classes,
# whose names some modules share (`session.login_with_password`).
FILE_ENDINGS = ("conf", "service", "py", "pem", "sock", "json", "md", "cookie", "log", "pid")
XAPI_CLASSES = ("session", "network", "pool", "host", "event")


@pytest.mark.parametrize("document", DOCUMENTS, ids=os.path.basename)
def test_modules_and_names_the_documents_spell_out_exist(document):
    known = modules()
    first_words = {"xsovs_common"} | {part for name in known for part in name.split(".")}
    first_words -= set(XAPI_CLASSES)
    development = modules(os.path.join(REPO, "xsovs_dev"))   # `ovn.central`: xsovs_dev's
    with open(document) as handle:
        text = handle.read()
    wrong = []
    for quoted in re.findall(r"`([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+)`", text):
        words = quoted.split(".")
        if words[0] in first_words and words[-1] not in FILE_ENDINGS \
                and not _resolves(words, known) and not _resolves(words, development):
            wrong.append(quoted)
    assert wrong == [], "%s names what xsovs_common does not have" % os.path.basename(document)


# Who may read the environment: the start of a program (its command module,
# paths.Root.from_environment) and the logging switches (log.setup).
READ_THE_ENVIRONMENT = ("paths", "log", "actions.commands")


def test_only_the_start_of_a_program_reads_the_environment():
    readers = []
    for name, path in sorted(modules().items()):
        with open(path) as handle:
            tree = ast.parse(handle.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id == "os" and node.attr in ("environ", "getenv"):
                readers.append(name)
    allowed = [n for n in readers if n in READ_THE_ENVIRONMENT
               or n.startswith("actions.commands.")]
    assert sorted(set(readers)) == sorted(set(allowed))
    assert "paths" in readers                                 # the check sees a reader
