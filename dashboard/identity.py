"""Who is acting: every action in the dashboard is recorded with a person's name.

When Streamlit's login is configured (an ``[auth]`` section in ``.streamlit/secrets.toml``) and the person has
logged in, ``st.user`` says who they are (identity source ``login``). Otherwise the dashboard asks for a name
once per session and keeps it in ``st.session_state`` (identity source ``name``).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

NAME_KEY = "identity_name"
NAME_INPUT_KEY = "identity_name_input"


@dataclass(frozen=True)
class Identity:
    name: str
    source: str  # one of pipelines.warehouse.actions.IDENTITY_SOURCES


def _logged_in_user() -> str | None:
    """The logged-in person's name (else e-mail), when Streamlit's login is configured and they logged in."""
    if not st.user.get("is_logged_in"):
        return None
    for claim in ("name", "email", "preferred_username", "sub"):
        value = st.user.get(claim)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def login_is_configured() -> bool:
    # st.user carries is_logged_in only when an [auth] section exists.
    return "is_logged_in" in st.user


def current() -> Identity | None:
    """Who is acting, or None until they have said."""
    user = _logged_in_user()
    if user is not None:
        return Identity(user, "login")
    name = st.session_state.get(NAME_KEY, "")
    return Identity(name, "name") if name else None


def _remember_name() -> None:
    st.session_state[NAME_KEY] = st.session_state.get(NAME_INPUT_KEY, "").strip()


def _forget_name() -> None:
    st.session_state[NAME_KEY] = ""
    st.session_state[NAME_INPUT_KEY] = ""


def sidebar() -> Identity | None:
    """Show who is acting in the sidebar; ask for a name when nobody is logged in and none was given."""
    with st.sidebar:
        who = current()
        if who is not None and who.source == "login":
            st.caption(f"Signed in as **{who.name}**")
            if st.button("Log out", key="identity_logout"):
                st.logout()
            return who
        if login_is_configured() and st.button("Log in", key="identity_login"):
            st.login()
        if who is not None:
            st.caption(f"Acting as **{who.name}** (recorded with every action)")
            st.button("Change name", key="identity_change", on_click=_forget_name)
            return who
        st.text_input(
            "Your name",
            key=NAME_INPUT_KEY,
            placeholder="e.g. Priya Shah",
            on_change=_remember_name,
        )
        st.caption("Say who you are to act on exceptions and approve payments: your name is recorded with each action.")
    return None


def require() -> Identity | None:
    """The acting person, or a warning on the page saying where to give a name."""
    who = current()
    if who is None:
        st.warning("Enter your name in the sidebar first: every action is recorded with who took it.")
    return who
