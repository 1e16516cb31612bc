"""Session-state keys, in one place (pages never use raw string keys)."""

LANGUAGE = "gw_language"
WORKSPACE = "gw_workspace"
PERIOD_PRESET = "gw_period_preset"
PERIOD_RANGE = "gw_period_range"
SELECTION = "gw_selection"
