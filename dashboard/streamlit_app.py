"""The avc2sage dashboard: what needs a person, and the documents behind it.

Run it with ``avc2sage dashboard`` (``streamlit run dashboard/streamlit_app.py`` with the ``AVC2SAGE_*``
locations exported). It reads only the published read snapshot of the warehouse and writes only its own action
store; see docs/dashboard.md.
"""

from __future__ import annotations

import streamlit as st

from dashboard import identity

st.set_page_config(page_title="avc2sage", page_icon=":material/sync_alt:", layout="wide")

PAGES = [
    st.Page("app_pages/overview.py", title="Overview", icon=":material/monitoring:", default=True),
    st.Page("app_pages/exceptions.py", title="Exceptions", icon=":material/report:"),
    st.Page("app_pages/lifecycle.py", title="Order lifecycle", icon=":material/timeline:"),
    st.Page("app_pages/remittances.py", title="Remittances", icon=":material/payments:"),
    st.Page("app_pages/deductions.py", title="Deductions", icon=":material/receipt_long:"),
    st.Page("app_pages/month_end.py", title="Month-end", icon=":material/event_available:"),
    st.Page("app_pages/handbook.py", title="Handbook", icon=":material/menu_book:"),
]

page = st.navigation(PAGES)
identity.sidebar()
page.run()
