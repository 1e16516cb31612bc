"""The canonical layers: the single source of truth for column names, types and allowed values.

Every GeoDataFrame that crosses a module boundary has one of the shapes declared here. All layers are
stored in EPSG:4326 (lon/lat); areas and distances are measured only after an explicit projection to a
metric CRS (``core.joins`` / ``core.metrics`` do that, never in degrees).

Point layers never store their grid: ``grid_id``, ``community`` and ``street`` are computed by
``core.joins`` against the active grids (a file's own grid code is kept as ``source_grid_code``).

Enumerated values are stable English codes; the dashboard's i18n catalog translates them for display.
Times are timezone-aware, in the workspace's time zone (its profile, ``core.workspaces``; the store reads
them back in it); a file with naive times is read in that zone. ``DEFAULT_TIMEZONE`` is the zone of a
workspace whose profile names none, and the default of functions that need a zone but get no data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "ASSIGNED",
    "AZIMUTH_DEG",
    "BRANCH",
    "CAMERAS",
    "CAMERA_ID",
    "CAMERA_STATUSES",
    "CATEGORY",
    "CHECKED_AT",
    "CHECKIN_ID",
    "CLOSED_AT",
    "COMMUNITY",
    "CREATED_AT",
    "DEADLINE_AT",
    "DEFAULT_TIMEZONE",
    "DESCRIPTION",
    "DISPATCHED_AT",
    "FOV_DEG",
    "GENDER",
    "GENDERS",
    "GEOMETRY",
    "GRIDS",
    "GRID_ID",
    "GRID_ID_AT_CREATION",
    "HANDLED_BY",
    "HOUSEHOLDS",
    "JOINED_COLUMNS",
    "KIND",
    "LAYERS",
    "LEADER",
    "LINKED_HOUSEHOLDS",
    "MEMBERS",
    "MEMBER_ID",
    "MEMBER_KINDS",
    "MEMBER_STATUSES",
    "NAME",
    "OPEN_STAGES",
    "PATROL_ASSIGNMENTS",
    "PATROL_ASSIGNMENT_COLUMNS",
    "PATROL_CHECKINS",
    "PATROL_TEAMS",
    "POINT_ID",
    "POINT_LAYERS",
    "POPULATION",
    "POST",
    "RANGE_M",
    "REWORK_COUNT",
    "SATISFACTION",
    "SATISFACTIONS",
    "SERVICE_KINDS",
    "SERVICE_POINTS",
    "SHIFT",
    "SHIFTS",
    "SITE_KIND",
    "SITE_KINDS",
    "SIZE",
    "SOURCE",
    "SOURCE_GRID_CODE",
    "STAGE",
    "STATUS",
    "STORAGE_CRS",
    "STREET",
    "SUBCATEGORY",
    "TEAM_ID",
    "TICKETS",
    "TICKET_ID",
    "TICKET_SOURCES",
    "TICKET_STAGES",
    "WORKER",
    "WORKER_PHONE",
    "Column",
    "Layer",
]

STORAGE_CRS = "EPSG:4326"
DEFAULT_TIMEZONE = "Asia/Shanghai"

# ---- column names -------------------------------------------------------------------------------
GEOMETRY = "geometry"

GRID_ID = "grid_id"
NAME = "name"
COMMUNITY = "community"
STREET = "street"
LEADER = "leader"
WORKER = "worker"
WORKER_PHONE = "worker_phone"
HOUSEHOLDS = "households"
POPULATION = "population"

CAMERA_ID = "camera_id"
SITE_KIND = "site_kind"
STATUS = "status"
AZIMUTH_DEG = "azimuth_deg"
FOV_DEG = "fov_deg"
RANGE_M = "range_m"

POINT_ID = "point_id"
KIND = "kind"

TICKET_ID = "ticket_id"
CREATED_AT = "created_at"
CATEGORY = "category"
SUBCATEGORY = "subcategory"
DESCRIPTION = "description"
SOURCE = "source"
STAGE = "stage"
DISPATCHED_AT = "dispatched_at"
DEADLINE_AT = "deadline_at"
CLOSED_AT = "closed_at"
REWORK_COUNT = "rework_count"
SATISFACTION = "satisfaction"
HANDLED_BY = "handled_by"

MEMBER_ID = "member_id"
GENDER = "gender"
BRANCH = "branch"
POST = "post"
LINKED_HOUSEHOLDS = "linked_households"

TEAM_ID = "team_id"
SIZE = "size"
SHIFT = "shift"

CHECKIN_ID = "checkin_id"
CHECKED_AT = "checked_at"

# added by core.joins to every point layer
SOURCE_GRID_CODE = "source_grid_code"
GRID_ID_AT_CREATION = "grid_id_at_creation"  # tickets: the grid under the boundaries active when created
ASSIGNED = "assigned"
JOINED_COLUMNS = (GRID_ID, COMMUNITY, STREET)

# ---- enumerations -------------------------------------------------------------------------------
SITE_KINDS = ("intersection", "key_site", "community_entrance", "key_area", "other")
CAMERA_STATUSES = ("online", "offline", "fault")
SERVICE_KINDS = (
    "service_hall",
    "party_service_center",
    "police_room",
    "legal_aid",
    "health_station",
    "mediation_station",
    "volunteer_station",
    "other",
)
TICKET_SOURCES = ("grid_worker", "resident", "hotline", "unit", "video")
TICKET_STAGES = (
    "received",
    "registered",
    "dispatched",
    "handling",
    "feedback",
    "verified",
    "closed",
    "cancelled",
)
OPEN_STAGES = ("received", "registered", "dispatched", "handling", "feedback", "verified")
SATISFACTIONS = ("satisfied", "basically_satisfied", "dissatisfied")
MEMBER_STATUSES = ("full", "probationary")
MEMBER_KINDS = ("community", "in_service")
GENDERS = ("female", "male")
SHIFTS = ("night", "day", "evening")

Kind = Literal["str", "int", "float", "datetime", "bool"]
GeometryType = Literal["Polygon", "MultiPolygon", "Point"]


@dataclass(frozen=True)
class Column:
    """One column of a layer.

    Columns that are not ``nullable`` must be present and filled; ``nullable`` columns may be absent
    from a file (``core.validate.conform`` adds them empty). A required column with a ``default`` may be
    absent too: ``core.validate.with_defaults`` fills it with that value and says so.
    ``allowed`` restricts a text column to a set of codes; ``min``/``max`` bound a number.
    """

    name: str
    kind: Kind
    doc: str
    nullable: bool = False
    allowed: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    default: str | float | None = None


@dataclass(frozen=True)
class Layer:
    """A canonical layer: its id column, geometry types and columns (geometry excluded)."""

    name: str
    id_column: str
    geometry_types: tuple[GeometryType, ...]
    columns: tuple[Column, ...]
    doc: str
    is_point_layer: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_point_layer", self.geometry_types == ("Point",))

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def datetime_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.kind == "datetime")


def _id(name: str, doc: str) -> Column:
    return Column(name, "str", doc)


def _point_layer(name: str, id_column: str, id_doc: str, columns: tuple[Column, ...], doc: str) -> Layer:
    """A layer of points whose first column is its unique text id ``id_column`` (described by ``id_doc``)."""
    return Layer(name, id_column, ("Point",), (_id(id_column, id_doc), *columns), doc)


GRIDS = Layer(
    "grids",
    GRID_ID,
    ("Polygon", "MultiPolygon"),
    (
        _id(
            GRID_ID,
            "unique grid code; the 14-digit standard code where known (6 county + 3 street + 3 community + 2 sequence)",
        ),
        Column(NAME, "str", "grid name shown on the map"),
        Column(COMMUNITY, "str", "community (社区) the grid belongs to"),
        Column(STREET, "str", "street office (街道) the community belongs to"),
        Column(LEADER, "str", "grid leader (网格长)", nullable=True),
        Column(WORKER, "str", "full-time grid worker (网格员)", nullable=True),
        Column(WORKER_PHONE, "str", "grid worker's phone; masked before display", nullable=True),
        Column(HOUSEHOLDS, "int", "households in the grid", nullable=True, min=0),
        Column(POPULATION, "int", "registered residents in the grid", nullable=True, min=0),
    ),
    "Grid boundaries (网格): polygons that nest inside communities and tile them.",
)

CAMERAS = _point_layer(
    "cameras",
    CAMERA_ID,
    "unique camera id",
    (
        Column(NAME, "str", "camera name or site", nullable=True),
        Column(SITE_KIND, "str", "where it is mounted", allowed=SITE_KINDS, default="other"),
        Column(STATUS, "str", "last reported status", allowed=CAMERA_STATUSES),
        Column(
            AZIMUTH_DEG,
            "float",
            "view direction, degrees clockwise from north; empty = 360° dome",
            nullable=True,
            min=0,
            max=360,
        ),
        Column(
            FOV_DEG,
            "float",
            "horizontal field of view in degrees (a fixed bullet camera: 90)",
            min=1,
            max=360,
            default=90.0,
        ),
        Column(
            RANGE_M,
            "float",
            "useful viewing distance in metres (a typical street camera: 50)",
            min=1,
            max=1000,
            default=50.0,
        ),
    ),
    "Surveillance cameras (天网工程).",
)

SERVICE_POINTS = _point_layer(
    "service_points",
    POINT_ID,
    "unique service point id",
    (
        Column(NAME, "str", "name of the service point"),
        Column(KIND, "str", "what it offers", allowed=SERVICE_KINDS, default="other"),
    ),
    "Service points: service halls, party service centres, police rooms, legal aid, health, mediation.",
)

TICKETS = _point_layer(
    "tickets",
    TICKET_ID,
    "unique ticket id",
    (
        Column(CREATED_AT, "datetime", "when the ticket was received"),
        Column(CATEGORY, "str", "category, e.g. 市容环境"),
        Column(SUBCATEGORY, "str", "subcategory", nullable=True),
        Column(DESCRIPTION, "str", "what was reported, in the reporter's words (untrusted text)", nullable=True),
        Column(SOURCE, "str", "who reported it", allowed=TICKET_SOURCES),
        Column(STAGE, "str", "current stage of handling", allowed=TICKET_STAGES),
        Column(DISPATCHED_AT, "datetime", "when it was dispatched", nullable=True),
        Column(DEADLINE_AT, "datetime", "committed handling deadline", nullable=True),
        Column(CLOSED_AT, "datetime", "when it was closed", nullable=True),
        Column(REWORK_COUNT, "int", "times it was sent back for rework (none recorded: 0)", min=0, default=0),
        Column(SATISFACTION, "str", "resident's rating", nullable=True, allowed=SATISFACTIONS),
        Column(HANDLED_BY, "str", "unit that handled it", nullable=True),
    ),
    "Resident tickets / events (诉求/事件) through their handling stages.",
)

MEMBERS = _point_layer(
    "members",
    MEMBER_ID,
    "unique party member id",
    (
        Column(NAME, "str", "member's name; never shown on the map"),
        Column(GENDER, "str", "gender", nullable=True, allowed=GENDERS),
        Column(STATUS, "str", "full or probationary member", allowed=MEMBER_STATUSES),
        Column(
            KIND, "str", "community member or in-service (在职) member reporting to the community", allowed=MEMBER_KINDS
        ),
        Column(BRANCH, "str", "party branch", nullable=True),
        Column(POST, "str", "post held in the grid, if any", nullable=True),
        Column(
            LINKED_HOUSEHOLDS,
            "int",
            "households the member is linked to (党员联户; none recorded: 0)",
            min=0,
            default=0,
        ),
    ),
    "Party members assigned to grids (党员进网格), located at their home or post.",
)

PATROL_TEAMS = _point_layer(
    "patrol_teams",
    TEAM_ID,
    "unique team id",
    (
        Column(NAME, "str", "team name"),
        Column(SIZE, "int", "people in the team", min=1),
        Column(SHIFT, "str", "when the team patrols", allowed=SHIFTS),
    ),
    "Patrol teams, located at the base they start from.",
)

PATROL_CHECKINS = _point_layer(
    "patrol_checkins",
    CHECKIN_ID,
    "unique sign-in id",
    (
        Column(TEAM_ID, "str", "team that signed in"),
        Column(CHECKED_AT, "datetime", "when the team signed in on site"),
    ),
    "On-site patrol sign-ins (巡查签到).",
)

LAYERS: dict[str, Layer] = {
    layer.name: layer for layer in (GRIDS, CAMERAS, SERVICE_POINTS, TICKETS, MEMBERS, PATROL_TEAMS, PATROL_CHECKINS)
}
PATROL_ASSIGNMENTS = "patrol_assignments"
"""The patrol duty roster (which team patrols which grid): a table kept as a workspace setting, not a
layer, since it has no geometry; ``PATROL_ASSIGNMENT_COLUMNS`` are its columns, one row per grid."""
PATROL_ASSIGNMENT_COLUMNS = (TEAM_ID, GRID_ID)
POINT_LAYERS = tuple(name for name, layer in LAYERS.items() if layer.is_point_layer)
