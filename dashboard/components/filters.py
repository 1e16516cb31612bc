"""Ticket inputs shared by the pages: the filter row (category, source, stage, community) and weights per
category."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import command, schema
from dashboard import data, state
from dashboard.i18n import t


def ticket_filter(sel, prefix: str, columns: list, *, stages: bool = True) -> command.TicketFilter:
    """Multiselects in ``columns`` (one per filter; three when ``stages`` is False); nothing chosen = all."""
    categories, communities = data.ticket_choices(sel.workspace, sel.version)
    boxes = iter(columns)
    chosen_categories = next(boxes).multiselect(
        t("command.category"), categories, key=state.key_of(prefix, "category"), placeholder=t("command.all")
    )
    sources = next(boxes).multiselect(
        t("command.source"),
        schema.TICKET_SOURCES,
        key=state.key_of(prefix, "source"),
        format_func=lambda s: t(f"source.{s}"),
        placeholder=t("command.all"),
    )
    chosen_stages = (
        next(boxes).multiselect(
            t("command.stage"),
            schema.TICKET_STAGES,
            key=state.key_of(prefix, "stage"),
            format_func=lambda s: t(f"stage.{s}"),
            placeholder=t("command.all"),
        )
        if stages
        else []
    )
    chosen_communities = next(boxes).multiselect(
        t("command.community"), communities, key=state.key_of(prefix, "community"), placeholder=t("command.all")
    )
    return command.TicketFilter(
        tuple(chosen_categories), tuple(sources), tuple(chosen_stages), tuple(chosen_communities)
    )


def category_weights(sel, key: str, label: str) -> tuple[tuple[str, float], ...]:
    """Weights of ticket categories (1 = an ordinary ticket, 0 = leave out), edited in an expander;
    only the categories whose weight is not 1 are returned."""
    categories, _ = data.ticket_choices(sel.workspace, sel.version)
    with st.expander(label):
        table = st.data_editor(
            pd.DataFrame({"category": list(categories), "weight": 1.0}),
            hide_index=True,
            key=key,
            disabled=["category"],
            width="stretch",
            column_config={
                "category": t("command.category"),
                "weight": st.column_config.NumberColumn(t("patrol.weight"), min_value=0.0, max_value=10.0, step=0.5),
            },
        )
    return tuple((c, float(w)) for c, w in zip(table["category"], table["weight"].fillna(1.0)) if w != 1.0)
