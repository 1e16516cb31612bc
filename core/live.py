"""The live state of a workspace's point layers: each stored layer joined to grids once, then extended by
the events that arrive (``core.events``) instead of being rebuilt.

``LiveLayers`` holds, per layer, the joined frame with the events up to some mark folded in. Asking for
a later mark reads only the events after the one it holds, folds them in and joins only the new points
through the cached ``GridIndex``; asking for an earlier mark starts again from the stored layer. Frames
handed out are never changed afterwards (each step makes a new one), so callers may share them.

New tickets and sign-ins carry ``event_seq`` (the event that brought them; missing for rows from a
file), so a page can mark what arrived since it was opened.

What is NOT here: the events themselves and how a ticket's state is derived (``core.events``), joining
(``core.joins``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd

from core import events as ev
from core import joins, privacy, schema

__all__ = ["EVENT_SEQ", "LIVE_KINDS", "LiveLayers"]

EVENT_SEQ = "event_seq"
LIVE_KINDS: dict[str, tuple[str, ...]] = {
    schema.TICKETS.name: (ev.TICKET, ev.STAGE),
    schema.CAMERAS.name: (ev.CAMERA,),
    schema.PATROL_CHECKINS.name: (ev.CHECKIN,),
}
"""The layers events change, and the kinds of event that change each."""

ReadEvents = Callable[[int, int, tuple[str, ...]], pd.DataFrame]


class LiveLayers:
    """The live point layers of one workspace version (see the module docstring). ``read_events(after,
    upto, kinds)`` reads the event log; ``grids`` and ``index`` are the version's grids and their index."""

    def __init__(self, grids: gpd.GeoDataFrame, index: joins.GridIndex, tz: str, read_events: ReadEvents) -> None:
        self._grids, self._index, self._tz, self._read = grids, index, tz, read_events
        self._held: dict[str, tuple[int, gpd.GeoDataFrame, dict[str, int]]] = {}
        self._lock = threading.Lock()

    def at(self, layer: str, mark: int, base: Callable[[], gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
        """``layer`` (joined to grids) with every event up to ``mark`` folded in; ``base()`` gives the
        stored layer joined, when there is nothing to extend."""
        with self._lock:
            start, frame, positions = self._held.get(layer, (0, None, {}))
            if frame is None or start > mark:
                frame = _numbered(base())
                start, positions = 0, ev.row_positions(frame, schema.LAYERS[layer].id_column)
            if start < mark:
                frame = self._extend(layer, frame, positions, self._read(start, mark, LIVE_KINDS[layer]))
            self._held[layer] = (mark, frame, positions)
            return frame

    def _extend(
        self, layer: str, frame: gpd.GeoDataFrame, positions: dict[str, int], events: pd.DataFrame
    ) -> gpd.GeoDataFrame:
        """``frame`` with ``events`` folded in: new rows joined on their own and appended (the held rows
        are shared, not copied), ``positions`` extended with them."""
        if events.empty:
            return frame
        if layer == schema.CAMERAS.name:
            return ev.fold_cameras(frame, events)
        if layer == schema.TICKETS.name:
            new, kind = ev.new_tickets(events, positions, frame, self._tz), ev.TICKET
        else:
            new, kind = ev.new_checkins(events, positions, self._tz), ev.CHECKIN
        out = frame
        if not new.empty:
            out = pd.concat([frame, self._placed(layer, new, events[events["kind"] == kind], frame)], ignore_index=True)
            positions.update(zip(new[schema.LAYERS[layer].id_column], range(len(frame), len(out)), strict=True))
        if layer == schema.TICKETS.name:
            return ev.apply_stages(out, events, self._tz, positions)
        return out if out is not frame else frame.copy(deep=False)

    def _placed(
        self, layer: str, new: gpd.GeoDataFrame, arrived: pd.DataFrame, like: gpd.GeoDataFrame
    ) -> gpd.GeoDataFrame:
        """``new`` rows joined to the grids, free text masked, marked with the event that brought each,
        in the columns and dtypes of ``like``."""
        spec = schema.LAYERS[layer]
        placed = privacy.mask_free_text(joins.join_to_grids(new, self._grids, self._index))
        if layer == schema.TICKETS.name:
            placed[schema.GRID_ID_AT_CREATION] = placed[schema.GRID_ID]
        seqs = arrived.drop_duplicates("ref").set_index("ref")["seq"]
        placed[EVENT_SEQ] = new[spec.id_column].map(seqs).to_numpy(dtype="float64")
        placed = placed.reindex(columns=[*like.columns, *placed.columns.difference(like.columns, sort=False)])
        geometry = like.geometry.name
        return placed.astype(
            {c: like[c].dtype for c in like.columns if c != geometry and placed[c].dtype != like[c].dtype}
        )


def _numbered(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The stored layer with an empty ``event_seq`` column (its rows came from files)."""
    if EVENT_SEQ in frame.columns:
        return frame
    return frame.assign(**{EVENT_SEQ: np.full(len(frame), np.nan)})
