"""Follow-up queues: red flags to acknowledge and callback requests to return, with who/when."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple, Type, Union

from sqlalchemy.orm import Session

from bot.store import audit
from bot.store.models import CallbackRequest, RedFlagEvent, utcnow

RED_FLAG_STATUSES = ("new", "acknowledged", "closed")
CALLBACK_STATUSES = ("new", "contacted", "closed")
OPEN = "open"  # queue filter: everything that is not closed

Item = Union[RedFlagEvent, CallbackRequest]
_KINDS: Dict[str, Tuple[Type[Item], Tuple[str, ...]]] = {
    "red_flag": (RedFlagEvent, RED_FLAG_STATUSES),
    "callback": (CallbackRequest, CALLBACK_STATUSES),
}
_TIER_ORDER = {"EMERGENCY": 0, "CRISIS": 1, "URGENT": 2}


class FollowUpError(ValueError):
    """A status change that cannot be made (message shown to the person)."""


def _model(kind: str) -> Type[Item]:
    return _KINDS[kind][0]


def statuses(kind: str) -> Sequence[str]:
    return _KINDS[kind][1]


def queue(session: Session, kind: str, status: str = OPEN, limit: int = 500) -> List[Item]:
    """The queue, most urgent first: red flags by tier then age, callbacks oldest first."""
    model = _model(kind)
    query = session.query(model)
    if status == OPEN:
        query = query.filter(model.status != "closed")
    elif status in statuses(kind):
        query = query.filter(model.status == status)
    elif status != "all":
        raise FollowUpError(f"Unknown status filter {status!r}.")
    items = query.order_by(model.created_at, model.id).limit(limit).all()
    if kind == "red_flag":
        items.sort(key=lambda r: (r.status != "new", _TIER_ORDER.get(r.tier, 9), r.created_at))
    else:
        items.sort(key=lambda r: (r.status != "new", r.created_at))
    return items


def set_status(session: Session, kind: str, item_id: int, status: str, actor: str, ip: Optional[str] = None) -> Item:
    """Change the status, remember who and when, and write the audit row (one transaction)."""
    if status not in statuses(kind):
        raise FollowUpError(f"Status must be one of: {', '.join(statuses(kind))}.")
    item = session.get(_model(kind), item_id)
    if item is None:
        raise FollowUpError("That item no longer exists (it may have been purged).")
    previous = item.status
    item.status, item.status_by, item.status_at = status, actor, utcnow()
    audit.record(session, actor, f"{kind}.status", target=item.sender_id,
                 detail={"id": item.id, "from": previous, "to": status}, ip=ip)
    return item
