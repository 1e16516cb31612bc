"""Showing text that came from a file or a person: inert for Streamlit's markdown."""

from __future__ import annotations

_MARKDOWN = "\\`*_{}[]()<>#+-.!|~$"


def md_text(value: object) -> str:
    """``value`` as literal text in ``st.markdown``/``st.error``/``st.table`` cells: no links, images,
    HTML or formatting (an image link in a file name would otherwise make the browser fetch it)."""
    text = str(value)
    for ch in _MARKDOWN:
        text = text.replace(ch, "\\" + ch)
    return text
