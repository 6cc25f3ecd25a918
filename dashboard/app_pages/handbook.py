"""Handbook: what an exception kind means and how to work it (docs/handbook/exceptions/<kind>.md).

Linked from each exception with ``?kind=<kind>``; the seed's title, owner and suggested action show above
the page, and alone when the page has not been written yet.
"""

from __future__ import annotations

import posixpath
import re

import streamlit as st

from dashboard import data, ui

snapshot = ui.snapshot_or_stop()
kinds = data.exception_kinds(snapshot)
seeds = {row["kind"]: row for row in kinds.to_dict("records")}

st.title("Handbook")
asked = st.query_params.get("kind")
if asked and asked not in seeds:
    st.warning(f"There is no exception kind called `{asked}`; choose one below.")
names = list(seeds)
if not names:
    st.info("The snapshot lists no exception kinds (seeds.exception_kinds).")
    st.stop()
# No widget key: the index follows the URL, so a link to another kind opens that kind.
kind = st.selectbox("Exception kind", names, index=names.index(asked) if asked in seeds else 0)
if st.query_params.get("kind") != kind:
    st.query_params["kind"] = kind

LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def in_the_dashboard(page: str) -> str:
    """The page's links as the dashboard can follow them: another kind's page opens here (?kind=), a link to
    another file of the repository becomes its path (it is not served), a web address stays."""

    def follow(link: re.Match[str]) -> str:
        text, target = link.group(1), link.group(2)
        if "://" in target or target.startswith(("mailto:", "#")):
            return link.group(0)
        path = target.partition("#")[0]
        name = posixpath.basename(path).removesuffix(".md")
        if path == f"{name}.md" and name in seeds:
            return f"[{text}](?kind={name})"
        return f"{text} (`{posixpath.normpath(posixpath.join('docs/handbook/exceptions', path))}`)"

    return LINK.sub(follow, page)


seed = seeds[kind]
st.header(seed["title"])
colour = ui.SEVERITY_COLOURS.get(seed["severity"], "gray")
st.markdown(
    f":{colour}-badge[{seed['severity']}] :blue-badge[owner: {seed['owner_role']}] "
    f":gray-badge[due within {seed['due_hours']} h] `{kind}`"
)
st.info(f"**Suggested action:** {seed['suggested_action']}")

page = data.handbook_page(kind)
if page is None:
    st.warning(
        f"The handbook page for `{kind}` is missing (docs/handbook/exceptions/{kind}.md): "
        "the seed's title and suggested action above are all there is for now."
    )
else:
    st.divider()
    st.markdown(in_the_dashboard(page))
