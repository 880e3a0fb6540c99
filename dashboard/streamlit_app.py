"""groove dashboard: ``streamlit run dashboard/streamlit_app.py`` (or ``groove dashboard``).

The router establishes who is acting, then declares pages; each page lays out what
groove_core returns. Under ``groove dashboard --auth oidc`` nothing else renders before
sign-in: no navigation, no page, no data (see :func:`dashboard.state.principal`).
"""

from pathlib import Path

import streamlit as st

from dashboard import state
from dashboard.components import identity

HERE = Path(__file__).parent
PAGES = HERE / "app_pages"

st.set_page_config(page_title="groove", page_icon=":material/psychology:", layout="wide")
identity.sidebar(state.principal())  # the sign-in gate: stops here until someone signs in
waiting = sum(state.waiting_counts(state.groove()).values())

nav = st.navigation(
    {
        "Memory": [
            st.Page(
                PAGES / "overview.py", title="Overview", icon=":material/dashboard:", default=True
            ),
            st.Page(PAGES / "learnings.py", title="Learnings", icon=":material/list:"),
        ],
        "Curation": [
            st.Page(
                PAGES / "review.py",
                title=f"Review queue ({waiting})" if waiting else "Review queue",
                icon=":material/rule:",
                url_path="review",
            ),
            st.Page(PAGES / "audit.py", title="Audit", icon=":material/history:"),
            st.Page(PAGES / "tiers.py", title="Tiers", icon=":material/layers:"),
        ],
        "Evidence": [
            st.Page(PAGES / "posterior.py", title="Posterior", icon=":material/bar_chart:"),
            st.Page(PAGES / "attribution.py", title="Attribution", icon=":material/timeline:"),
            st.Page(PAGES / "ablation.py", title="Ablation", icon=":material/science:"),
            st.Page(PAGES / "parameters.py", title="Parameters", icon=":material/tune:"),
        ],
        "Open world": [
            st.Page(
                PAGES / "fingerprint_map.py",
                title="Fingerprint map",
                icon=":material/scatter_plot:",
            ),
            st.Page(PAGES / "gaps.py", title="Capability gaps", icon=":material/report:"),
            st.Page(PAGES / "novelty.py", title="Novelty events", icon=":material/bolt:"),
        ],
    }
)
nav.run()
state.settle_heap()  # after the page: what its first run imported stays alive
