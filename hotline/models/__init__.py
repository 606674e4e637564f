"""All tables. Each area keeps its tables in a module of its own; importing this package
registers every one of them with SQLAlchemy (and so with the migrations)."""

from .audit import AdminAudit  # noqa: F401
from .calls import Call, SmsMessage  # noqa: F401
from .cohandling import CaseCohandler  # noqa: F401
from .contacts import DepartmentContact  # noqa: F401
from .core import (  # noqa: F401
    Attachment,
    CalendarYear,
    Case,
    CaseCounter,
    CaseEvent,
    Category,
    ChangeStamp,
    Department,
    Line,
    User,
)
from .figures import ReportCell, ReportCount, ReportRebuild  # noqa: F401
from .followup import CallbackTask, OutboxMessage, PointsEntry, Survey  # noqa: F401
from .identity import AuthEvent  # noqa: F401
from .inbox import InboxMessage  # noqa: F401
from .publication import Publication, PublicationState  # noqa: F401
from .rules import RoutingModel, RoutingRule  # noqa: F401
