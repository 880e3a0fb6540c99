"""Placeholder until the page lands."""

import streamlit as st

st.title("fingerprint_map")
st.info("This page is being built.")
