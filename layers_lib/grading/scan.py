"""The static scan of a submission: which top-level definitions use torch, layers_lib or
dynamic imports, found by reading the source (nothing is imported or run).

The worker blocks those imports at run time (`isolation.BLOCKED_IMPORTS`), but a blocked import
only surfaces as an ImportError somewhere in a check. The scan names the culprit and why
("SoftPlus imports torch: the layers must be written with NumPy"), follows helpers, base classes
and names bound at the top level (`T = __import__("torch")`), and lets `IsolatedSubmission` fail
exactly the flagged classes (`flags`, `flagged_reason`). It is pure analysis of `loader.Piece`s.
"""
import ast
import re

from ..i18n import mark, tr

_TORCH_WHY = mark("the layers must be written with NumPy")
_DYNAMIC_WHY = mark("dynamic imports are not allowed in the submission")
_FROM_TORCH = mark("comes from torch")
# rule -> (what the code does, where a name bound by it comes from, why that is not allowed);
# translated where the reasons are written (`_rule`)
_RULES = {
    "torch": (mark("imports torch"), _FROM_TORCH, _TORCH_WHY),
    "torch.autograd": (mark("uses torch.autograd"), _FROM_TORCH, _TORCH_WHY),
    "layers_lib": (mark("imports layers_lib (the course's reference implementation)"),
                   mark("comes from layers_lib (the course's reference implementation)"),
                   mark("write the layer yourself")),
    "__import__": (mark("calls __import__"), mark("is built with __import__"), _DYNAMIC_WHY),
    "importlib": (mark("uses importlib"), mark("comes from importlib"), _DYNAMIC_WHY),
    "sys.modules": (mark("reads sys.modules"), mark("comes from sys.modules"),
                    mark("reaching loaded modules is not allowed in the submission")),
    "exec": (mark("calls exec/eval"), mark("is built with exec/eval"),
             mark("dynamically built code is not allowed in the submission")),
}


def _rule(key):
    """(does, comes, why) of a rule in the course language."""
    return tuple(tr(text) for text in _RULES[key])
_SCAN_STRINGS = {"torch": "torch", "layers_lib": "layers_lib", "__import__": "__import__",
                 "importlib": "importlib"}


def _findings(node):
    """Rule keys of the suspicious constructs inside `node` (in source order, no repeats)."""
    found = []

    def add(key):
        if key not in found:
            found.append(key)

    for sub in ast.walk(node):
        if isinstance(sub, ast.Import):
            for alias in sub.names:
                _module_rule(alias.name, add)
        elif isinstance(sub, ast.ImportFrom):
            if not sub.level and sub.module:
                _module_rule(sub.module, add)
                if sub.module == "torch" and any(a.name == "autograd" for a in sub.names):
                    add("torch.autograd")
        elif isinstance(sub, ast.Name):
            if sub.id in ("__import__", "importlib"):
                add(sub.id)
            elif sub.id in ("exec", "eval"):
                add("exec")
        elif isinstance(sub, ast.Attribute):
            if sub.attr == "__import__":
                add("__import__")
            if isinstance(sub.value, ast.Name):
                if sub.value.id == "torch" and sub.attr == "autograd":
                    add("torch.autograd")
                if sub.value.id == "sys" and sub.attr == "modules":
                    add("sys.modules")
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            text = sub.value.strip()
            top = text.partition(".")[0]
            if top in _SCAN_STRINGS and (text == top or re.fullmatch(r"[\w.]+", text)):
                if top in ("torch", "layers_lib"):
                    _module_rule(text, add)
                else:
                    add(_SCAN_STRINGS[top])
    return found


def _module_rule(module, add):
    top = module.partition(".")[0]
    if top == "torch":
        add("torch.autograd" if module.startswith("torch.autograd") else "torch")
    elif top == "layers_lib":
        add("layers_lib")
    elif top == "importlib":
        add("importlib")


def _loaded_names(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _bound_by_import(stmt):
    names = set()
    for alias in stmt.names:
        if alias.name == "*":
            continue
        names.add(alias.asname or alias.name.partition(".")[0])
    return names


def scan_submission(pieces):
    """Static scan of the pieces: (flags, {name: reason}) for top-level definitions that import
    torch or layers_lib, import dynamically, or use something that does.

    A definition is flagged when its own code has a suspicious construct, when it refers to a
    name bound by a suspicious top-level statement (`import torch`, `T = __import__("torch")`),
    or when it refers to another flagged definition (a torch-based helper or base class).
    Statements like `Linear.forward = f` count as part of `Linear`. The last definition of a name
    is the one judged (it is the one that runs)."""
    defs = {}            # name -> (label, direct rule keys, referenced names)
    tainted = {}         # name bound at the top level by a suspicious statement -> (rule, label)
    flags = []
    for piece in pieces:
        try:
            tree = ast.parse(piece.source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for stmt in tree.body:
            if isinstance(stmt, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                defs[stmt.name] = (piece.label, _findings(stmt), _loaded_names(stmt) - {stmt.name})
                continue
            found = _findings(stmt)
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                bound = _bound_by_import(stmt)
            else:
                bound = {t.id for t in ast.walk(stmt) if isinstance(t, ast.Name)
                         and isinstance(t.ctx, ast.Store)}
            refs = _loaded_names(stmt)
            owners = {t.value.id for t in ast.walk(stmt) if isinstance(t, ast.Attribute)
                      and isinstance(t.ctx, ast.Store) and isinstance(t.value, ast.Name)
                      and t.value.id in defs}
            for owner in owners:
                label, direct, owner_refs = defs[owner]
                defs[owner] = (label, direct + [k for k in found if k not in direct],
                               owner_refs | refs)
            via = next((tainted[r] for r in sorted(refs) if r in tainted), None)
            if found or via:
                rule, origin = (found[0], piece.label) if found else via
                for name in bound:
                    tainted[name] = (rule, origin)
                    defs.pop(name, None)
                if found and not bound and not owners:
                    flags.append(tr("{label} {does} at the top level (blocked in the worker)",
                                    label=piece.label, does=_rule(rule)[0]))
            else:
                for name in bound:
                    tainted.pop(name, None)
    reasons = {}
    for name, (label, direct, refs) in defs.items():
        if direct:
            does, _, why = _rule(direct[0])
            reasons[name] = tr("{name} {does}: {why}", name=name, does=does, why=why)
    referenced = set().union(*(refs for _, _, refs in defs.values())) if defs else set()
    tainted_flags = []
    for name, (rule, origin) in tainted.items():
        if name not in defs:
            _, comes, why = _rule(rule)
            reasons.setdefault(name, tr("{name} {comes} ({origin}): {why}", name=name, comes=comes,
                                        origin=origin, why=why))
            if name not in referenced:
                tainted_flags.append(reasons[name])
    changed = True
    while changed:
        changed = False
        for name, (label, direct, refs) in defs.items():
            if name in reasons:
                continue
            for ref in sorted(refs):
                if ref in tainted and ref not in defs:
                    rule, origin = tainted[ref]
                    _, comes, why = _rule(rule)
                    reasons[name] = tr("{name} uses {ref}, which {comes} ({origin}): {why}",
                                       name=name, ref=ref, comes=comes, origin=origin, why=why)
                elif ref in reasons and ref in defs:
                    reasons[name] = tr("{name} uses {ref}; {reason}", name=name, ref=ref,
                                       reason=reasons[ref])
                else:
                    continue
                changed = True
                break
    flags = [reasons[n] for n in sorted(reasons) if n in defs] + tainted_flags + flags
    return flags, reasons
