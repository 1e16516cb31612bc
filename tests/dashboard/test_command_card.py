"""The command center's grid card: a grid gone from the boundaries clears the selection; any other
failure of the card is a bug and is not turned into the "click a grid" hint."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest


def card_script(raised: str) -> None:
    import streamlit as st

    from dashboard import data, state
    from dashboard.views import command

    def broken(name, ver, mark, grid_id):
        raise KeyError(raised)

    data.grid_card = broken
    st.session_state[state.SELECTED_GRID] = "g1"
    card = command.selected_card(type("Sel", (), {"workspace": "w", "version": 1, "mark": 0}), "g1")
    st.write(f"card={card} selected={st.session_state[state.SELECTED_GRID]}")


@pytest.mark.parametrize("raised, bug", [("g1", False), ("stage", True)])
def test_only_a_vanished_grid_clears_the_selection(raised, bug):
    at = AppTest.from_function(card_script, args=(raised,), default_timeout=60).run()
    if bug:
        assert [e.message for e in at.exception] == ["'stage'"]
    else:
        assert not at.exception
        assert at.markdown[0].value == "card=None selected=None"
