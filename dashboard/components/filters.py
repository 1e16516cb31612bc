"""The ticket filter row shared by the pages that slice tickets (category, source, stage, community)."""

from __future__ import annotations

from core import command, schema
from dashboard import data
from dashboard.i18n import t


def ticket_filter(sel, prefix: str, columns: list, *, stages: bool = True) -> command.TicketFilter:
    """Multiselects in ``columns`` (one per filter; three when ``stages`` is False); nothing chosen = all."""
    categories, communities = data.ticket_choices(sel.workspace, sel.version)
    boxes = iter(columns)
    chosen_categories = next(boxes).multiselect(t("command.category"), categories, key=f"{prefix}_category",
                                                placeholder=t("command.all"))
    sources = next(boxes).multiselect(t("command.source"), schema.TICKET_SOURCES, key=f"{prefix}_source",
                                      format_func=lambda s: t(f"source.{s}"), placeholder=t("command.all"))
    chosen_stages = next(boxes).multiselect(t("command.stage"), schema.TICKET_STAGES, key=f"{prefix}_stage",
                                            format_func=lambda s: t(f"stage.{s}"),
                                            placeholder=t("command.all")) if stages else []
    chosen_communities = next(boxes).multiselect(t("command.community"), communities, key=f"{prefix}_community",
                                                 placeholder=t("command.all"))
    return command.TicketFilter(tuple(chosen_categories), tuple(sources), tuple(chosen_stages),
                                tuple(chosen_communities))
