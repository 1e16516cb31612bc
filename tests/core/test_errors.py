"""core.errors: the tree its docstring draws is the tree of its classes, and an error keeps its code,
params and own fields on the way back from the read worker (pickled)."""

from __future__ import annotations

import pickle
import re

from core import errors


def drawn_tree() -> dict[str, str | None]:
    """Each class the docstring draws, with the class it hangs under (None for the root)."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in errors.__doc__.splitlines():
        found = re.match(r"^(\s*)((?:[│ ]   )*)(?:[├└]── )?([A-Z]\w+Error)\s", line)
        if not found:
            continue
        depth = len(found.group(2)) // 4 + (1 if "──" in line else 0)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[found.group(3)] = stack[-1][1] if stack else None
        stack.append((depth, found.group(3)))
    return parents


def test_the_docstring_tree_is_the_class_tree():
    drawn = drawn_tree()
    classes = {
        name: value
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, errors.GridWatchError)
    }
    assert set(drawn) == set(classes)
    for name, parent in drawn.items():
        (base,) = classes[name].__bases__
        assert base.__name__ == (parent or "Exception"), name
    assert drawn["DistrictPlanError"] == "GridWatchError" and drawn["WorkspaceError"] == "StoreError"


def test_an_error_keeps_its_code_params_and_fields_when_pickled():
    error = errors.SitingError("the radius must be positive", code="radius", params={"value": -1})
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is errors.SitingError and str(back) == str(error)
    assert (back.code, back.params) == ("radius", {"value": -1})
    problem = errors.Problem("grids", None, ("g1",), "what", "fix", code="missing_value")
    invalid = pickle.loads(pickle.dumps(errors.ValidationError("grids", [problem])))
    assert invalid.problems == (problem,) and invalid.code == "validation"
