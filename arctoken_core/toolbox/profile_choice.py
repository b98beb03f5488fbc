"""The Saved Profile parameter's value list: the profiles ``arctoken login`` saved here.

Read while the dialog validates (never in the spec: the help would show one machine's list).
Reading them needs no network and no ``keyring``; signing in with one does, so a missing
``keyring`` is a warning on the parameter; having no profile yet is an error saying how
to create one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, List, Tuple

if TYPE_CHECKING:
    from ..fields import Problem

__all__ = ["PROFILE", "fill_profiles", "with_profile_problems"]

PROFILE = "profile"
"""The parameter's name, and the Connection field it gives."""
NONE_SAVED = "no profile is saved on this computer; create one with: arctoken login --profile NAME"


def saved_profiles() -> Tuple[List[str], List[Problem]]:
    """The names of the saved profiles, and what stops them being used here."""
    from ..errors import ArcTokenError
    from ..fields import Problem
    from ..profiles import keyring_module, list_profiles

    try:
        names = list(list_profiles())
    except ArcTokenError as exc:
        return [], [Problem(PROFILE, str(exc), "warning")]
    problems = [] if names else [Problem(PROFILE, NONE_SAVED)]
    try:
        keyring_module()
    except ArcTokenError as exc:
        problems.append(Problem(PROFILE, str(exc), "warning"))
    return names, problems


def fill_profiles(param: Any) -> None:
    """Set the parameter's value list to the saved profiles' names."""
    param.filter.list = saved_profiles()[0]


def with_profile_problems(problems: List[Problem]) -> List[Problem]:
    """``problems`` of a Saved profile connection, with what stops profiles being used here.

    With no profile saved, that error (how to create one) replaces "is required".
    """
    names, found = saved_profiles()
    kept = [p for p in problems if names or p.field != PROFILE]
    return found + kept
