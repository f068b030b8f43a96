"""Permission and site checks, done once, in the services (never in a route or template alone)."""

from __future__ import annotations

from alscell.domain.access import GLOBAL_ROLES, Action, Role, allowed
from alscell.errors import PermissionDenied
from alscell.storage.models import User

__all__ = ["allowed_to", "require", "require_site", "sees_all_sites"]


def require(user: User, action: Action, *, site_id: int | None = None, resource: str = "") -> None:
    """Raise :class:`PermissionDenied` unless ``user`` may do ``action`` (at ``site_id`` when given).

    Inactive users may do nothing.
    """
    if not user.active or not allowed(user.role, action):
        raise PermissionDenied(user.username, action.value.replace("_", " "), resource)
    if site_id is not None:
        require_site(user, site_id, action=action)


def require_site(user: User, site_id: int, *, action: Action = Action.VIEW_PATIENT) -> None:
    """Raise :class:`PermissionDenied` when ``site_id`` is outside the user's reach."""
    if not sees_all_sites(user) and user.site_id != site_id:
        # the message names no record: another site's study codes are not to be learned this way
        raise PermissionDenied(
            user.username, action.value.replace("_", " "), "a record at another site"
        )


def sees_all_sites(user: User) -> bool:
    """Administrators and monitors reach every site; so do analysts without a site (de-identified)."""
    return user.role in GLOBAL_ROLES or (user.role is Role.ANALYST and user.site_id is None)


def allowed_to(user: User, action: Action) -> bool:
    """Whether ``user``'s role allows ``action`` at all (site scoping aside); for showing or hiding."""
    return user.active and allowed(user.role, action)
