"""Session-state keys and widget keys, in one place (pages and components never use raw string keys).

Widget keys are what Streamlit keeps a widget's value under and what browser tests and ``AppTest`` find
widgets by: their values must not change. A family of keys is a prefix joined to its parts with
``key_of`` (``key_of(HOT_FILTER, "category")`` is ``"gw_hot_category"``)."""

from collections.abc import Callable

import streamlit as st

LANGUAGE = "gw_language"
WORKSPACE = "gw_workspace"
NEW_WORKSPACE = "gw_new_workspace"  # a workspace just made or left: selected on the next run
WORKSPACE_FLASH = "gw_workspace_flash"
PERIOD_PRESET = "gw_period_preset"
PERIOD_RANGE = "gw_period_range"
SELECTION = "gw_selection"
ACCOUNT = "gw_account"  # the signed-in core.accounts.Account of this run (components.signin)
SESSION_TOKEN = "gw_session_token"
SESSION_COOKIE = "gw_session"  # the browser cookie holding the session token
COOKIE_PENDING = "gw_cookie_pending"  # a session cookie to hand the browser on the next run
FLASH = "gw_flash"
UPLOAD_NONCE = "gw_upload_nonce"
UPLOAD_DIGEST = "gw_upload_digest"
SELECTED_GRID = "gw_selected_grid"
LAST_MAP_CLICK = "gw_last_map_click"
FOCUS = "gw_focus"
CC_SINCE = "gw_cc_since"  # (workspace, version, event mark) when the command center was opened: what came later is new
PROPOSAL = "gw_patrol_proposal"
SITING = "gw_siting_run"


def kept(key: str, widget_key: str, default: object) -> Callable[[], None]:
    """Keep a widget's value under ``key``, which outlives the widget: Streamlit forgets a widget's state
    when a run does not draw it (another page) or when its options are new (a selectbox stores the
    *translated* option, so a language switch loses the choice). Call before drawing the widget (keyed
    ``widget_key``) and pass the result as its ``on_change``."""
    st.session_state[widget_key] = st.session_state.get(key, default)
    return lambda: st.session_state.update({key: st.session_state[widget_key]})


# ==== widget keys =================================================================================


def key_of(prefix: str, *parts: object) -> str:
    """The key of one member of a family: ``prefix`` and ``parts`` joined by "_"."""
    return "_".join((prefix, *map(str, parts)))


# ---- signing in ----
SIGNIN_FORM = "gw_signin_form"
SIGNIN_USERNAME = "gw_signin_username"
SIGNIN_PASSWORD = "gw_signin_password"
SIGNIN_SSO = "gw_signin_sso"  # the single sign-on button
SSO_SEEN = "gw_sso_seen"  # the provider sign-in (identity, issued at) this session handled already
SSO_REFUSAL = "gw_sso_refusal"  # why it was refused (shown with the sign-in form)
PASSWORD_FORM = "gw_password_form"
NEW_PASSWORD = "gw_new_password"
NEW_PASSWORD_AGAIN = "gw_new_password_again"
SIGN_OUT = "gw_sign_out"

# ---- Administration ----
AUDIT_ACCOUNT = "gw_audit_account"
AUDIT_ACTION = "gw_audit_action"
AUDIT_DAYS = "gw_audit_days"
AUDIT_TABLE = "gw_audit_table"
AUDIT_DOWNLOADS = "gw_audit"  # + _csv, _xlsx
ADMIN_TABS = "gw_admin_tabs"  # which tab of Administration is open (kept across reruns)
ACCOUNTS_TABLE = "gw_accounts_table"
ACCOUNT_FORM = "gw_account_form"
ACCOUNT_NAME = "gw_account_name"
ACCOUNT_DISPLAY = "gw_account_display"
ACCOUNT_ROLES = "gw_account_roles"
ACCOUNT_SCOPE = "gw_account_scope"
ACCOUNT_PICK = "gw_account_pick"
ACCOUNT_ACTION = "gw_account"  # + _disable, _enable, _unlock, _reset, _link, _unlink
ACCOUNT_SSO = "gw_account_sso"  # the identity typed in the add form
ACCOUNT_IDENTITY = "gw_account_identity"  # the identity typed for link / unlink
KEYS_TABLE = "gw_keys_table"
KEY_SOURCE = "gw_key_source"
KEY_ACTION = "gw_key"  # + _create, _revoke

# ---- the sidebar ----
LANGUAGE_WIDGET = "gw_language_widget"
NEW_WORKSPACE_FORM = "gw_new_workspace_form"
NEW_WORKSPACE_NAME = "gw_new_ws_name"
NEW_WORKSPACE_ZONE = "gw_new_ws_zone"
NEW_WORKSPACE_CRS = "gw_new_ws_crs"
NEW_WORKSPACE_DEMO = "gw_new_ws_demo"
DELETE_WORKSPACE = "gw_delete_ws"  # the button; + _<name>: the box its name is typed again in
# the period preset's widget: key_of(PERIOD_PRESET, language)

# ---- Overview and Command center ----
OVERVIEW_MAP = "overview_map"
WALL_TOGGLE = "gw_wall_toggle"
COMMAND_MAP = "command_map"
CC_MEASURE = "gw_cc_measure"
CC_FILTER = "gw_cc"  # + _category, _source, _stage, _community (components.filters.ticket_filter)
CC_OVERDUE = "gw_cc_overdue"
CC_GRID_TICKETS = "gw_cc_grid_tickets"
REVEAL_PHONE = "gw_reveal_phone"  # + _<grid_id>
SELECTED_TICKET = "gw_selected_ticket"  # the ticket whose history and actions are shown
CC_TICKET_HISTORY = "gw_cc_ticket_history"
DISPATCH_FORM = "gw_dispatch_form"
DISPATCH_ACTION = "gw_dispatch_action"
DISPATCH_TO = "gw_dispatch_to"
DISPATCH_DATE = "gw_dispatch_date"
DISPATCH_TIME = "gw_dispatch_time"
DISPATCH_REASON = "gw_dispatch_reason"

# ---- Performance ----
PERF_LEVEL = "gw_perf_level"
PERF_TABLE = "gw_perf_table"
PERF_DOWNLOADS = "gw_perf"  # + _csv, _xlsx (components.downloads)
PERF_MAP_INDICATOR = "gw_perf_map"
PERF_MAP = "perf_map"
PERF_DRILL = "gw_perf_drill"
PERF_DRILL_TABLE = "gw_perf_drill_table"
PERF_TREND = "gw_perf_trend"
REPORT_DOWNLOADS = "gw_report"  # + _pdf, _html
PERF_WEIGHT = "gw_perf_weight"  # + _<indicator>
PERF_SAVE_WEIGHTS = "gw_perf_save_weights"

# ---- Coverage and siting ----
COV_MINUTES = "gw_cov_minutes"
COV_SPEED = "gw_cov_speed"
COV_DETOUR = "gw_cov_detour"
COV_OFF_ROAD = "gw_cov_off_road"
COV_TARGET = "gw_cov_target"
COV_FILE = "gw_cov"  # + _roads, _key_points: the files read for the session
COV_COMMUNITY = "gw_cov_community"
COV_MEASURE = "gw_cov_measure"
COV_KIND = "gw_cov_kind"
COVERAGE_MAP = "coverage_map"
COV_TABLE = "gw_cov_table"
COV_DOWNLOADS = "gw_cov"  # + _csv, _xlsx
SITE_TARGET = "gw_site_target"
SITE_KIND = "gw_site_kind"
SITE_K = "gw_site_k"
SITE_RADIUS = "gw_site_radius"  # + _<target>
SITE_DEMAND = "gw_site_demand"
SITE_CANDIDATES = "gw_site_candidates"
SITE_SPACING = "gw_site_spacing"  # + _<target>
SITE_WEIGHTS = "gw_site_weights"
SITE_RUN = "gw_site_run"
SITE_TABLE = "gw_site_table"
SITE_DOWNLOADS = "gw_site"  # + _csv, _geojson

# ---- Hotspots ----
HOT_FILTER = "gw_hot"  # + _category, _source, _community
HOT_UNIT = "gw_hot_unit"
HOT_RESOLUTION = "gw_hot_res"
HOT_FDR = "gw_hot_fdr"
HOT_SHOW = "gw_hot_show"
HOT_MAP = "hot_map"  # + _<unit>_<resolution>
HOT_UNIT_TICKETS = "gw_hot_unit_tickets"
HOT_TABLE = "gw_hot_table"  # the table; + _csv, _xlsx its downloads
HOT_REPEAT_M = "gw_hot_rep_m"
HOT_REPEAT_DAYS = "gw_hot_rep_days"
HOT_REPEATS = "gw_hot_repeats"  # the table; + _csv, _xlsx its downloads
HOT_REPEAT_RATES = "gw_hot_repeat_rates"

# ---- Patrols ----
PATROL_PER_TEAM = "gw_patrol_per_team"
PATROL_DAYS = "gw_patrol_days"
PATROL_UNVISITED = "gw_patrol_unvisited"
PATROL_VERSUS = "gw_patrol_versus"
PATROL_W_TICKETS = "gw_patrol_w_tickets"
PATROL_W_AREA = "gw_patrol_w_area"
PATROL_W_POPULATION = "gw_patrol_w_population"
PATROL_SEVERITY = "gw_patrol_severity"
PATROL_LOCKS = "gw_patrol_locks"
PATROL_RUN = "gw_patrol_run"
PATROL_CURRENT_MAP = "patrol_current_map"
PATROL_MAP_NOW = "patrol_map_now"
PATROL_MAP_NEW = "patrol_map_new"
PATROL_COMPARE = "gw_patrol_compare"
PATROL_ADOPT = "gw_patrol_adopt"
ROSTER_EDITOR = "gw_roster_editor"
ROSTER_SAVE = "gw_roster_save"
ROSTER_UPLOAD = "gw_roster_upload"
ROSTER_IMPORT = "gw_roster_import"
ROSTER_DOWNLOADS = "gw_roster"  # + _csv, _xlsx
PROPOSAL_DOWNLOADS = "gw_proposal"  # + _csv, _xlsx

# ---- Data ----
DATA_LAYER = "gw_data_layer"  # kept; the widget: key_of(DATA_LAYER, language)
UPLOAD_FILE = "gw_upload"  # + _<layer>_<nonce>
UPLOAD_MODE = "gw_mode"
UPLOAD_OPTIONS = "gw_opts"  # + _layer, _crs, _enc, _x, _y, _wkt
CONFIRM_CRS = "gw_confirm_crs"
DATUM = "gw_datum"
MAPPING = "gw_mapping"  # + _<layer>
VALUES = "gw_values"  # + _<layer>_<file digest>, + _<column> per field
OFFER_REPAIR = "gw_offer_repair"
OFFER_POLYGONIZE = "gw_offer_polygonize"
OFFER_SKIP = "gw_offer_skip"
LEFT_OUT_CSV = "gw_left_out_csv"
PREVIEW_MAP = "gw_preview_map"
NOTE = "gw_note"
CONFIRM_SHRINK = "gw_confirm_shrink"
ACTIVATE = "gw_activate"
REACTIVATE_VERSION = "gw_reactivate_version"
REACTIVATE = "gw_reactivate"
CLEAR_LAYER = "gw_clear_layer"  # + _<language>
CLEAR_CONFIRM = "gw_clear_confirm"  # + _<layer>
CLEAR = "gw_clear"
